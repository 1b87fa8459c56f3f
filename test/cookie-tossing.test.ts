import t from 'tap'
import { build, CLIENT_ID, CLIENT_SECRET, CookieJar } from './helpers/build.js'

const HTTPS_REDIRECT = 'https://app.example/callback'

/** An app served over https: every cookie is secure. */
function secureApp (t: Parameters<typeof build>[0], cookie: { domain?: string, name?: string } = {}) {
  return build(t, {
    emulator: { clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [HTTPS_REDIRECT] }] },
    plugin: { redirectUri: HTTPS_REDIRECT, cookie }
  })
}

t.test('secure cookies get __Host- names, which another host or an http hop cannot plant', async (t) => {
  const { login, request, app } = await secureApp(t)
  const start = await app.inject('/login?returnTo=/back')
  const flow = start.cookies as Array<{ name: string, secure?: boolean, path?: string, domain?: string }>
  t.same(flow.map((c) => c.name).sort(), ['__Host-spotify_auth_return', '__Host-spotify_auth_state', '__Host-spotify_auth_verifier'])
  for (const c of flow) t.ok(c.secure === true && c.path === '/' && c.domain === undefined, `${c.name}: Secure, Path=/, no Domain`)
  const { jar, callback } = await login()
  t.equal(callback.statusCode, 302)
  const session = (callback.cookies as Array<{ name: string, secure?: boolean, httpOnly?: boolean, path?: string, domain?: string }>).find((c) => c.name === '__Host-spotify_session')
  t.ok(session?.secure === true && session.httpOnly === true && session.path === '/' && session.domain === undefined, 'the session cookie too: Secure, HttpOnly, Path=/, no Domain')
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200)

  // Login CSRF: flow cookies planted under the unprefixed names do not count.
  const planted = new CookieJar()
  planted.cookies.set('spotify_auth_state', 'attacker-state')
  planted.cookies.set('spotify_auth_verifier', 'attacker-verifier')
  const forced = await request(planted, { url: '/callback?state=attacker-state&code=attacker-code' })
  t.equal(forced.statusCode, 403)
})

t.test('a cookie domain makes the prefix __Secure- (a __Host- cookie cannot name one)', async (t) => {
  const { login } = await secureApp(t, { domain: 'app.example' })
  const { callback } = await login()
  t.ok((callback.cookies as Array<{ name: string }>).some((c) => c.name === '__Secure-spotify_session'))
})

t.test('a cookie name with a prefix of its own keeps it: __Host-Http- (set over HTTP only, in browsers that know it)', async (t) => {
  const { login, request } = await secureApp(t, { name: '__Host-Http-spotify_session' })
  const { jar, callback } = await login()
  const session = (callback.cookies as Array<{ name: string, secure?: boolean, httpOnly?: boolean, path?: string, domain?: string }>).find((c) => c.name === '__Host-Http-spotify_session')
  t.ok(session?.secure === true && session.httpOnly === true && session.path === '/' && session.domain === undefined, 'no second prefix; Secure, HttpOnly, Path=/, no Domain')
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200)
})

t.test('two session cookies in one request: neither is trusted', async (t) => {
  const { login, app, emulator } = await build(t)
  const { jar } = await login()
  const ours = jar.cookies.get('spotify_session') as string
  const { jar: other } = await login(new CookieJar())
  emulator.control.resetCounters()
  for (const cookie of [`spotify_session=${other.cookies.get('spotify_session') as string}; spotify_session=${ours}`, `spotify_session=${ours}; spotify_session=${ours}`]) {
    const response = await app.inject({ url: '/spotify/me', headers: { cookie } })
    t.equal(response.statusCode, 401)
  }
  t.equal(emulator.control.counters.api, 0)
  t.equal((await app.inject({ url: '/spotify/me', headers: { cookie: `spotify_session=${ours}` } })).statusCode, 200, 'one is fine')
})

t.test('a session cookie whose signature does not verify is cleared', async (t) => {
  const { app } = await build(t)
  const response = await app.inject({ url: '/spotify/me', headers: { cookie: 'spotify_session=forged.signature' } })
  t.equal(response.statusCode, 401)
  const cleared = (response.cookies as Array<{ name: string, value: string }>).find((c) => c.name === 'spotify_session')
  t.equal(cleared?.value, '', 'Set-Cookie clears it')
  const none = await app.inject({ url: '/spotify/me' })
  t.equal(none.headers['set-cookie'], undefined, 'no Set-Cookie to a request that sent none')
})

t.test('two tabs: an older tab\'s callback, or a cross-site one, does not break the newer login', async (t) => {
  const { request, emulator } = await build(t)
  const jar = new CookieJar()
  const older = new URL((await request(jar, { url: '/login' })).headers.location as string)
  const newer = new URL((await request(jar, { url: '/login' })).headers.location as string)
  const olderBack = new URL(emulator.control.authorize(older.searchParams))
  const stale = await request(jar, { url: olderBack.pathname + olderBack.search })
  t.equal(stale.statusCode, 403, 'the older tab\'s state no longer matches')
  const crossSite = await request(jar, { url: '/callback?state=whatever' })
  t.equal(crossSite.statusCode, 403)
  t.ok(jar.cookies.has('spotify_auth_state'), 'the login in progress keeps its cookies')
  const newerBack = new URL(emulator.control.authorize(newer.searchParams))
  const done = await request(jar, { url: newerBack.pathname + newerBack.search })
  t.equal(done.statusCode, 302, 'the latest login completes')
  t.ok(jar.cookies.has('spotify_session'))
  t.notOk(jar.cookies.has('spotify_auth_state'), 'and its flow cookies are used up')
})

t.test('logout refuses other origins, and sends no Set-Cookie to a browser without a session', async (t) => {
  const { login, request, app } = await build(t)
  const { jar } = await login()
  const foreign: Array<Record<string, string>> = [{ origin: 'http://127.0.0.1:6666' }, { 'sec-fetch-site': 'same-site' }]
  for (const headers of foreign) {
    const response = await request(jar, { method: 'POST', url: '/logout', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })
    t.equal(response.statusCode, 403)
    t.equal(response.json().error.code, 'FST_SPOTIFY_CROSS_SITE')
  }
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200, 'still logged in')
  const bare = await app.inject({ method: 'POST', url: '/logout' })
  t.equal(bare.statusCode, 303)
  t.equal(bare.headers['set-cookie'], undefined, 'nothing to clear')
  const mine = await request(jar, { method: 'POST', url: '/logout', headers: { origin: 'http://127.0.0.1:5543', 'sec-fetch-site': 'same-origin' } })
  t.equal(mine.statusCode, 303)
  t.notOk(jar.cookies.has('spotify_session'), 'a same-origin logout works')
})
