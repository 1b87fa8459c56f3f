import t from 'tap'
import { build, CLIENT_ID, CookieJar, REDIRECT_URI, SCOPES, deadUrl } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

t.test('login redirects to Spotify with every parameter of the contract', async (t) => {
  const { app, emulator } = await build(t, { plugin: { showDialog: true } })
  const response = await app.inject('/login')
  t.equal(response.statusCode, 302)
  const location = new URL(response.headers.location as string)
  t.equal(location.origin + location.pathname, `${emulator.url}/authorize`)
  const q = location.searchParams
  t.equal(q.get('client_id'), CLIENT_ID)
  t.equal(q.get('response_type'), 'code')
  t.equal(q.get('redirect_uri'), REDIRECT_URI)
  t.equal(q.get('scope'), SCOPES.join(' '))
  t.match(q.get('state'), /^[\w-]{16,}$/)
  t.match(q.get('code_challenge'), /^[\w-]{43}$/)
  t.equal(q.get('code_challenge_method'), 'S256')
  t.equal(q.get('show_dialog'), 'true')
})

t.test('login without PKCE, dialog or scopes sends none of them', async (t) => {
  const { app } = await build(t, { plugin: { pkce: false, scopes: [] } })
  const response = await app.inject('/login')
  const q = new URL(response.headers.location as string).searchParams
  t.equal(q.get('code_challenge'), null)
  t.equal(q.get('code_challenge_method'), null)
  t.equal(q.get('show_dialog'), null)
  t.equal(q.get('scope'), null)
  t.ok(q.get('state'))
})

t.test('state and verifier cookies are HttpOnly, SameSite=Lax, Path=/', async (t) => {
  const { app } = await build(t)
  const response = await app.inject('/login')
  const cookies = response.cookies as Array<{ name: string, httpOnly?: boolean, sameSite?: string, path?: string, secure?: boolean }>
  for (const name of ['spotify_auth_state', 'spotify_auth_verifier']) {
    const cookie = cookies.find((c) => c.name === name)
    t.ok(cookie, `${name} is set`)
    t.equal(cookie?.httpOnly, true)
    t.equal(cookie?.sameSite, 'Lax')
    t.equal(cookie?.path, '/')
    t.notOk(cookie?.secure, 'not Secure on a plain-http loopback redirect URI')
  }
})

t.test('a full login stores the token server-side and gives the browser only an opaque signed cookie', async (t) => {
  const { login, emulator, app } = await build(t)
  const { jar, callback } = await login()
  t.equal(callback.statusCode, 302)
  t.equal(callback.headers.location, '/')
  t.equal(emulator.control.counters.authorization_code, 1)
  t.same([...jar.cookies.keys()], ['spotify_session'], 'flow cookies cleared, session cookie set')
  const session = (callback.cookies as Array<{ name: string, value: string, httpOnly?: boolean, sameSite?: string, path?: string, maxAge?: number }>)
    .find((c) => c.name === 'spotify_session')
  t.match(session?.value, /^[\w-]{43}\.[\w+/]+$/, 'session id and signature only')
  t.equal(session?.httpOnly, true)
  t.equal(session?.sameSite, 'Lax')
  t.equal(session?.path, '/')
  t.equal(session?.maxAge, 30 * 24 * 60 * 60)
  // The tokens themselves, not a pattern: a random session id may contain "AQ…".
  const token = await app.spotify.store.get((session?.value as string).split('.')[0] as string)
  for (const secret of [token?.accessToken, token?.refreshToken]) {
    t.ok(secret !== undefined && secret.length > 20)
    t.notOk(callback.body.includes(secret as string), 'no token in the body')
    t.notOk(JSON.stringify(callback.headers).includes(secret as string), 'no token in any header')
  }
})

t.test('the state and verifier cookies are cleared by the callback', async (t) => {
  const { login } = await build(t)
  const { callback } = await login()
  const cleared = (callback.cookies as Array<{ name: string, value: string, expires?: Date }>)
    .filter((c) => c.value === '').map((c) => c.name).sort()
  t.same(cleared, ['spotify_auth_return', 'spotify_auth_state', 'spotify_auth_verifier'])
})

t.test('every login creates a new session id, and the old session ends', async (t) => {
  const { login, request, app } = await build(t)
  const first = await login()
  const firstCookie = first.jar.cookies.get('spotify_session')
  const second = await login(first.jar)
  const secondCookie = second.jar.cookies.get('spotify_session')
  t.not(secondCookie, firstCookie, 'a new id, not the one the browser sent')
  const stale = new CookieJar()
  stale.cookies.set('spotify_session', firstCookie as string)
  const old = await request(stale, { url: '/spotify/me' })
  t.equal(old.statusCode, 401, 'the previous session is gone')
  const current = await request(second.jar, { url: '/spotify/me' })
  t.equal(current.statusCode, 200)
  t.ok(app)
})

t.test('a planted session cookie is never promoted by a login', async (t) => {
  const { login } = await build(t)
  const jar = new CookieJar()
  jar.cookies.set('spotify_session', 'attacker-chosen-id')
  const { jar: after } = await login(jar)
  t.not(after.cookies.get('spotify_session'), 'attacker-chosen-id')
  t.notMatch(after.cookies.get('spotify_session'), /^attacker/)
})

t.test('returnTo: a same-origin path is followed', async (t) => {
  const { login } = await build(t)
  const { callback } = await login(undefined, '/playlists?page=2')
  t.equal(callback.headers.location, '/playlists?page=2')
})

t.test('returnTo: open-redirect attempts are ignored', async (t) => {
  const { login } = await build(t, { plugin: { successRedirect: '/home' } })
  for (const attempt of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/%0d%0aLocation:x', 'evil', '/\t/evil.example', '/€', '/a b', '/\u00e9', '/.//evil.example', '/..//evil.example', '/%2e%2e//evil.example', '/%2E//evil.example', '/a/../..//evil.example', '/./x']) {
    const { callback } = await login(undefined, attempt)
    t.equal(callback.headers.location, '/home', `${JSON.stringify(attempt)} is not followed`)
  }
})

t.test('callback: a wrong or missing state answers 403 and makes no token call', async (t) => {
  const { app, request, emulator } = await build(t)
  const jar = new CookieJar()
  await request(jar, { url: '/login' })
  for (const url of ['/callback?code=abc&state=wrong', '/callback?code=abc', '/callback?code=abc&state=a&state=b']) {
    const copy = new CookieJar()
    for (const [k, v] of jar.cookies) copy.cookies.set(k, v)
    const response = await request(copy, { url })
    t.equal(response.statusCode, 403, url)
    t.same(response.json(), { error: { status: 403, message: 'Invalid state: start the login again', code: 'FST_SPOTIFY_INVALID_STATE' } })
    t.notOk(copy.cookies.has('spotify_session'), 'no session')
  }
  const noCookie = await app.inject('/callback?code=abc&state=abc')
  t.equal(noCookie.statusCode, 403, 'no state cookie at all')
  t.equal(emulator.control.counters.authorization_code, 0)
})

t.test('callback: the state is checked before ?error=', async (t) => {
  const { app } = await build(t)
  const response = await app.inject('/callback?error=access_denied&state=forged')
  t.equal(response.statusCode, 403)
})

t.test('callback: access_denied answers 401 and creates no session', async (t) => {
  const { request } = await build(t)
  const jar = new CookieJar()
  const start = await request(jar, { url: '/login' })
  const state = new URL(start.headers.location as string).searchParams.get('state') as string
  const response = await request(jar, { url: `/callback?error=access_denied&state=${state}` })
  t.equal(response.statusCode, 401)
  t.equal(response.json().error.code, 'FST_SPOTIFY_AUTHORIZATION_DENIED')
  t.match(response.json().error.message, /access_denied/)
  t.notOk(jar.cookies.has('spotify_session'))
})

t.test('callback: an odd error value is not echoed', async (t) => {
  const { request } = await build(t)
  const jar = new CookieJar()
  const start = await request(jar, { url: '/login' })
  const state = new URL(start.headers.location as string).searchParams.get('state') as string
  const response = await request(jar, { url: `/callback?error=%3Cscript%3E&state=${state}` })
  t.equal(response.statusCode, 401)
  t.match(response.json().error.message, /unknown_error/)
  t.notMatch(response.body, /script/)
})

t.test('callback: a missing code answers 400', async (t) => {
  const { request, emulator } = await build(t)
  const jar = new CookieJar()
  const start = await request(jar, { url: '/login' })
  const state = new URL(start.headers.location as string).searchParams.get('state') as string
  const response = await request(jar, { url: `/callback?state=${state}` })
  t.equal(response.statusCode, 400)
  t.equal(response.json().error.code, 'FST_SPOTIFY_MISSING_CODE')
  t.equal(emulator.control.counters.authorization_code, 0)
})

t.test('callback: a lost verifier cookie counts as a broken flow (403)', async (t) => {
  const { request, emulator } = await build(t)
  const jar = new CookieJar()
  const start = await request(jar, { url: '/login' })
  jar.cookies.delete('spotify_auth_verifier')
  const state = new URL(start.headers.location as string).searchParams.get('state') as string
  const response = await request(jar, { url: `/callback?code=x&state=${state}` })
  t.equal(response.statusCode, 403)
  t.equal(emulator.control.counters.authorization_code, 0)
})

t.test('callback: a replayed code answers 400 and creates no session', async (t) => {
  const { request, login } = await build(t)
  const first = await login()
  const callbackUrl = (first.callback as unknown as { raw: { req: { url: string } } }).raw.req.url
  const jar = new CookieJar()
  const start = await request(jar, { url: '/login' })
  const state = new URL(start.headers.location as string).searchParams.get('state') as string
  const code = new URL(callbackUrl, 'http://x').searchParams.get('code') as string
  const replay = await request(jar, { url: `/callback?code=${code}&state=${state}` })
  t.equal(replay.statusCode, 400)
  t.equal(replay.json().error.code, 'FST_SPOTIFY_INVALID_CODE')
  t.notOk(jar.cookies.has('spotify_session'))
})

t.test('callback: a token endpoint that refuses the client answers 502', async (t) => {
  const { login } = await build(t, { plugin: { clientSecret: 'wrong-secret' } })
  const { callback, jar } = await login()
  t.equal(callback.statusCode, 502)
  t.equal(callback.json().error.code, 'FST_SPOTIFY_UPSTREAM_ERROR')
  t.notMatch(callback.body, /wrong-secret/)
  t.notOk(jar.cookies.has('spotify_session'))
})

t.test('callback: token endpoint 5xx answers 502, a hang 504, down 502; no session', async (t) => {
  const built = await build(t, { plugin: { timeout: 300 } })
  built.emulator.control.failTokenCalls(1, 500)
  const failed = await built.login()
  t.equal(failed.callback.statusCode, 502)
  t.notOk(failed.jar.cookies.has('spotify_session'))

  built.emulator.control.hangTokenCalls(1)
  const hung = await built.login()
  t.equal(hung.callback.statusCode, 504)
  t.equal(hung.callback.json().error.code, 'FST_SPOTIFY_UPSTREAM_TIMEOUT')
  t.notOk(hung.jar.cookies.has('spotify_session'))
})

t.test('callback: an unreachable token endpoint answers 502', async (t) => {
  const downUrl = await deadUrl()
  const { request, emulator } = await build(t, { plugin: { accountsUrl: downUrl } })
  const jar = new CookieJar()
  const start = await request(jar, { url: '/login' })
  const authorizeUrl = new URL(start.headers.location as string)
  const approved = emulator.control.authorize(authorizeUrl.searchParams)
  const back = new URL(approved)
  const response = await request(jar, { url: back.pathname + back.search })
  t.equal(response.statusCode, 502)
  t.notOk(jar.cookies.has('spotify_session'))
})

t.test('onLogin runs after the token is stored; a throw fails the login and drops the session', async (t) => {
  const seen: string[] = []
  const sessionIds: string[] = []
  const { login, app } = await build(t, {
    plugin: {
      async onLogin (request, { sessionId, token }) {
        seen.push(`${request.url.split('?')[0]} ${token.scope.join(',')}`)
        sessionIds.push(sessionId)
        t.same(await app.spotify.store.get(sessionId), token, 'stored before onLogin runs')
        if (seen.length === 2) throw Object.assign(new Error('not on the guest list'), { statusCode: 403 })
      }
    }
  })
  const ok = await login()
  t.equal(ok.callback.statusCode, 302)
  t.same(seen, [`/callback ${SCOPES.join(',')}`])
  t.equal((ok.jar.cookies.get('spotify_session') as string).split('.')[0], sessionIds[0], 'onLogin got the cookie\'s session id')
  const refused = await login()
  t.equal(refused.callback.statusCode, 403)
  t.notOk(refused.jar.cookies.has('spotify_session'))
  t.equal(await app.spotify.store.get(sessionIds[1] as string), undefined, 'the refused login\'s session is deleted')
})

t.test('a token response without a refresh token fails the login with 502', async (t) => {
  // The emulator always sends one on a code exchange, as Spotify does: a
  // stand-in token endpoint shows what the plugin does if it ever does not.
  let grant: unknown
  const fakeUrl = await fakeUpstream(t, (fake) => {
    fake.post('/api/token', async (request) => {
      grant = (request.body as Record<string, string>).grant_type
      return { access_token: 'x', expires_in: 3600, token_type: 'Bearer' }
    })
  })
  const { request, emulator } = await build(t, { plugin: { accountsUrl: fakeUrl } })
  const jar = new CookieJar()
  const start = await request(jar, { url: '/login' })
  const back = new URL(emulator.control.authorize(new URL(start.headers.location as string).searchParams))
  const response = await request(jar, { url: back.pathname + back.search })
  t.equal(grant, 'authorization_code', 'the fake answered the exchange')
  t.equal(response.statusCode, 502)
  t.match(response.json().error.message, /no refresh token/)
  t.notOk(jar.cookies.has('spotify_session'))
})

t.test('a login without PKCE sends no verifier and works', async (t) => {
  const { login, emulator } = await build(t, { plugin: { pkce: false } })
  const { callback, jar } = await login()
  t.equal(callback.statusCode, 302)
  t.ok(jar.cookies.has('spotify_session'))
  t.equal(emulator.control.counters.authorization_code, 1)
})

t.test('the session cookie carries the configured domain and lifetime', async (t) => {
  const { login } = await build(t, { plugin: { cookie: { domain: 'app.example', maxAge: null, name: 'sid' } } })
  const { callback } = await login()
  const session = (callback.cookies as Array<{ name: string, domain?: string, maxAge?: number, expires?: Date }>).find((c) => c.name === 'sid')
  t.equal(session?.domain, 'app.example')
  t.equal(session?.maxAge, undefined, 'a browser-session cookie')
  t.equal(session?.expires, undefined)
})

t.test('a token endpoint that answers garbage gives 502, whatever its status', async (t) => {
  let status = 200
  let calls = 0
  const fakeUrl = await fakeUpstream(t, (fake) => {
    fake.post('/api/token', async (_request, reply) => {
      calls++
      return reply.code(status).type('text/html').send('<html>oops</html>')
    })
  })
  const { request, emulator } = await build(t, { plugin: { accountsUrl: fakeUrl } })
  for (status of [200, 400, 404]) {
    const jar = new CookieJar()
    const start = await request(jar, { url: '/login' })
    const back = new URL(emulator.control.authorize(new URL(start.headers.location as string).searchParams))
    const response = await request(jar, { url: back.pathname + back.search })
    t.equal(response.statusCode, 502, `token endpoint ${status}`)
    t.equal(response.json().error.code, 'FST_SPOTIFY_UPSTREAM_ERROR')
    t.match(response.json().error.message, new RegExp(`answered ${status}`))
  }
  t.equal(calls, 3)
})

t.test('the callback log line drops the query, and a bare callback is logged as it is', async (t) => {
  const { app, logs } = await build(t)
  await app.inject('/callback')
  await app.inject('/callback?code=some-code-value&state=s')
  const urls = logs.map((line) => JSON.parse(line) as { req?: { url: string } }).filter((l) => l.req !== undefined).map((l) => l.req?.url)
  t.same(urls, ['/callback', '/callback?[redacted]'])
})

t.test('under a prefix: login, callback and logout work; a redirect URI outside it is refused', async (t) => {
  const Fastify = (await import('fastify')).default
  const spotifyAuth = (await import('../plugin/index.js')).default
  const { createSpotifyEmulator } = await import('../plugin/emulator/index.js')
  const { CLIENT_SECRET, SECRET } = await import('./helpers/build.js')
  const redirectUri = 'http://127.0.0.1:5543/auth/callback'
  const emulator = await createSpotifyEmulator({ autoApprove: true, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [redirectUri] }] })
  t.teardown(() => emulator.close())
  const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, secret: SECRET, accountsUrl: emulator.url, apiUrl: emulator.url }
  const app = Fastify()
  await app.register(async (auth) => { await auth.register(spotifyAuth, { ...options, redirectUri }) }, { prefix: '/auth' })
  t.teardown(() => app.close())
  const jar = new CookieJar()
  const start = await app.inject({ url: '/auth/login' })
  t.equal(start.statusCode, 302)
  jar.take(start)
  const back = new URL((await fetch(start.headers.location as string, { redirect: 'manual' })).headers.get('location') as string)
  t.equal(back.pathname, '/auth/callback')
  const callback = await app.inject({ url: back.pathname + back.search, headers: { cookie: jar.header } })
  t.equal(callback.statusCode, 302)
  jar.take(callback)
  t.equal((await app.inject({ url: '/auth/spotify/me', headers: { cookie: jar.header } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie: jar.header } })).statusCode, 303)

  const outside = Fastify()
  const error = await outside.register(async (auth) => {
    await auth.register(spotifyAuth, { ...options, redirectUri: 'http://127.0.0.1:5543/callback' })
  }, { prefix: '/auth' }).ready().then(() => undefined, (err: Error) => err)
  t.match(error?.message, /options\.redirectUri path \/callback must be under \/auth/)
  await outside.close()
})
