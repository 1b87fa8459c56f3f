import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, CookieJar, SCOPES, type Built } from './helpers/build.js'
import { sessionIdOf } from './helpers/sessions.js'

const PAGE = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'

function topRoutes (app: FastifyInstance): void {
  const needsTop = app.spotify.requireScopes(['user-top-read'])
  app.get('/top', { preHandler: needsTop }, async (request) => {
    const top = await request.spotify.api.get('me/top/artists').json<{ items: unknown[] }>()
    return { artists: top.items.length }
  })
  app.post('/top', { preHandler: needsTop }, async () => 'posted')
  app.get('/top-after-auth', { onRequest: [app.spotify.authenticate, needsTop] }, async () => 'ok')
}

/**
 * The browser's part of Spotify's consent page: opens the authorize URL,
 * reads the form's hidden fields, agrees, and returns the callback URL.
 */
async function consent (authorizeUrl: string): Promise<{ scopes: string[], callback: string }> {
  const page = await fetch(authorizeUrl)
  const html = await page.text()
  const form = new URLSearchParams()
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(name as string, (value as string).replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>'))
  }
  form.set('user_id', (/<option value="([^"]+)"/.exec(html) as RegExpExecArray)[1] as string)
  form.set('decision', 'agree')
  const decision = await fetch(new URL('/authorize/decision', authorizeUrl), { method: 'POST', body: form, redirect: 'manual' })
  const back = new URL(decision.headers.get('location') as string)
  return { scopes: (form.get('scope') ?? '').split(' '), callback: back.pathname + back.search }
}

/** A whole login with the consent page; resolves the scopes Spotify was asked for. */
async function loginThroughConsent (built: Built, jar: CookieJar): Promise<string[]> {
  const start = await built.request(jar, { url: '/login' })
  const { scopes, callback } = await consent(start.headers.location as string)
  const back = await built.request(jar, { url: callback })
  if (back.statusCode !== 302) throw new Error(`login failed: ${back.statusCode}`)
  return scopes
}

t.test('a page needing a scope the session lacks sends the browser through consent and back', async (t) => {
  const built = await build(t, {
    emulator: { autoApprove: false },
    plugin: { optionalScopes: ['user-top-read', 'streaming'] },
    before: topRoutes
  })
  const jar = new CookieJar()
  t.same(await loginThroughConsent(built, jar), SCOPES, 'the first login asks for the configured scopes only')

  const page = await built.request(jar, { url: '/top?range=short', headers: { accept: PAGE } })
  t.equal(page.statusCode, 302)
  const login = new URL(page.headers.location as string, 'http://127.0.0.1:5543')
  t.equal(login.pathname, '/login')
  t.same(login.searchParams.get('scope')?.split(' '), [...SCOPES, 'user-top-read'], 'what is granted, and what is missing')
  t.equal(login.searchParams.get('returnTo'), '/top?range=short')

  const start = await built.request(jar, { url: login.pathname + login.search })
  const { scopes, callback } = await consent(start.headers.location as string)
  t.same(scopes, [...SCOPES, 'user-top-read'], 'Spotify is asked for the union')
  const back = await built.request(jar, { url: callback })
  t.equal(back.headers.location, '/top?range=short', 'back to the page that asked')

  const stored = await built.app.spotify.store.get(sessionIdOf(jar))
  t.same(stored?.scope, [...SCOPES, 'user-top-read'], 'the new session has the scope')
  const again = await built.request(jar, { url: '/top?range=short', headers: { accept: PAGE } })
  t.equal(again.statusCode, 200)
  t.ok(again.json().artists > 0, 'and Spotify accepts it for the call that needs it')
})

t.test('an API call lacking a scope gets 403 naming the missing scopes', async (t) => {
  const built = await build(t, {
    plugin: { optionalScopes: ['user-top-read'] },
    before: topRoutes
  })
  const { jar } = await built.login()
  const calls: Array<[string, Record<string, string>, string?]> = [
    ['a fetch asking for JSON', { accept: 'application/json' }],
    ['no Accept at all', {}],
    ['a fetch asking for HTML (fetch metadata says it is no navigation)', { accept: PAGE, 'sec-fetch-mode': 'cors' }],
    ['a form POST (a navigation, but not one to send through a login)', { accept: PAGE }, 'POST']
  ]
  for (const [name, headers, method] of calls) {
    const response = await built.request(jar, { method: method ?? 'GET', url: '/top', headers })
    t.equal(response.statusCode, 403, name)
    t.same(response.json(), {
      statusCode: 403,
      code: 'FST_SPOTIFY_MISSING_SCOPES',
      error: 'Forbidden',
      message: 'Missing Spotify scopes: user-top-read'
    }, `${name}: Fastify's error shape, naming the scope`)
  }
  const navigated = await built.request(jar, { url: '/top', headers: { accept: '*/*', 'sec-fetch-mode': 'navigate' } })
  t.equal(navigated.statusCode, 302, 'fetch metadata decides: a navigation is redirected whatever its Accept')
  const afterAuth = await built.request(jar, { url: '/top-after-auth', headers: { accept: 'application/json' } })
  t.equal(afterAuth.statusCode, 403, 'usable after authenticate too')
  t.equal(built.emulator.control.counters.api, 1, 'no Web API call but the login\'s /me')
})

t.test('the error carries the missing scopes for an error handler', async (t) => {
  const built = await build(t, {
    plugin: { scopes: ['user-read-private'], optionalScopes: ['user-top-read', 'streaming'] },
    before (app) {
      app.setErrorHandler((error: Error & { scopes?: readonly string[], statusCode?: number }, _request, reply) =>
        reply.code(error.statusCode ?? 500).send({ scopes: error.scopes }))
      app.get('/both', { preHandler: app.spotify.requireScopes(['streaming', 'user-top-read', 'user-read-private']) }, async () => 'ok')
    }
  })
  const { jar } = await built.login()
  const response = await built.request(jar, { url: '/both' })
  t.same(response.json(), { scopes: ['streaming', 'user-top-read'] }, 'only those not granted, in the order asked')
})

t.test('without a session: 401, as authenticate answers', async (t) => {
  const built = await build(t, { plugin: { optionalScopes: ['user-top-read'] }, before: topRoutes })
  const response = await built.request(new CookieJar(), { url: '/top', headers: { accept: PAGE } })
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'FST_SPOTIFY_NO_SESSION')
})

t.test('a session that has the scopes goes through without a second look', async (t) => {
  const built = await build(t, { plugin: { scopes: [...SCOPES, 'user-top-read'] }, before: topRoutes })
  const { jar } = await built.login()
  const response = await built.request(jar, { url: '/top', headers: { accept: PAGE } })
  t.equal(response.statusCode, 200)
})

t.test('requireScopes refuses, at once, scopes the login could never ask for', async (t) => {
  const built = await build(t, { plugin: { optionalScopes: ['user-top-read'] } })
  const { requireScopes } = built.app.spotify
  const wrong: Array<[string, unknown, RegExp]> = [
    ['not an array', 'user-top-read', /requireScopes\(\) takes a non-empty array of scope names/],
    ['empty', [], /requireScopes\(\) takes a non-empty array/],
    ['a number in it', [1], /requireScopes\(\) takes a non-empty array/],
    ['a scope Spotify does not have', ['user-read-birthdate'], /requireScopes\(\) got "user-read-birthdate", which is not a scope Spotify documents/],
    ['a scope in neither list', ['streaming'], /requireScopes\(\) needs streaming in options\.scopes or options\.optionalScopes/]
  ]
  for (const [name, scopes, message] of wrong) {
    const error = (() => { try { requireScopes(scopes as string[]) } catch (err) { return err as Error & { code: string } } })()
    t.match(error?.message, message, name)
    t.equal(error?.code, 'FST_SPOTIFY_INVALID_OPTION', name)
  }
  t.type(requireScopes(['user-top-read', 'user-read-private']), 'function', 'optional and configured scopes are fine')
})

t.test('?scope= on the login adds only scopes of the allow-list, and ignores the rest', async (t) => {
  const built = await build(t, { plugin: { scopes: ['user-read-private'], optionalScopes: ['user-top-read', 'streaming'] } })
  const asked = async (query: string): Promise<string | null> => {
    const response = await built.request(new CookieJar(), { url: `/login${query}` })
    t.equal(response.statusCode, 302, query)
    return new URL(response.headers.location as string).searchParams.get('scope')
  }
  t.equal(await asked(''), 'user-read-private')
  t.equal(await asked('?scope=streaming'), 'user-read-private streaming')
  t.equal(await asked('?scope=streaming%20user-top-read'), 'user-read-private user-top-read streaming', 'in the order of optionalScopes')
  t.equal(await asked('?scope=user-read-email%20streaming%20ugc-image-upload'), 'user-read-private streaming', 'documented scopes outside the allow-list are ignored')
  t.equal(await asked('?scope=nonsense%20%00%20user-read-birthdate'), 'user-read-private', 'garbage is ignored, not an error')
  t.equal(await asked('?scope=streaming&scope=user-top-read'), 'user-read-private', 'a repeated parameter is ignored')
  t.equal(await asked('?scope=user-read-private'), 'user-read-private', 'no duplicate of a configured scope')

  const none = await build(t, { plugin: { scopes: [] } })
  const response = await none.request(new CookieJar(), { url: '/login?scope=streaming' })
  t.equal(new URL(response.headers.location as string).searchParams.has('scope'), false, 'no allow-list, no scopes: none asked for')
})

t.test('under a prefix, the redirect goes to the prefixed login', async (t) => {
  const Fastify = (await import('fastify')).default
  const spotifyAuth = (await import('../plugin/index.js')).default
  const { createSpotifyEmulator } = await import('../plugin/emulator/index.js')
  const { CLIENT_ID, CLIENT_SECRET, SECRET } = await import('./helpers/build.js')
  const redirectUri = 'http://127.0.0.1:5543/auth/callback'
  const emulator = await createSpotifyEmulator({ autoApprove: true, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [redirectUri] }] })
  t.teardown(() => emulator.close())
  const app = Fastify()
  await app.register(async (auth) => {
    await auth.register(spotifyAuth, {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      secret: SECRET,
      accountsUrl: emulator.url,
      apiUrl: emulator.url,
      redirectUri,
      optionalScopes: ['streaming'],
      playbackTokenPath: '/token'
    })
    auth.get('/player', { preHandler: auth.spotify.requireScopes(['streaming']) }, async () => 'player')
  }, { prefix: '/auth' })
  t.teardown(() => app.close())

  const jar = new CookieJar()
  const start = await app.inject({ url: '/auth/login' })
  jar.take(start)
  const back = new URL((await fetch(start.headers.location as string, { redirect: 'manual' })).headers.get('location') as string)
  jar.take(await app.inject({ url: back.pathname + back.search, headers: { cookie: jar.header } }))
  const page = await app.inject({ url: '/auth/player', headers: { cookie: jar.header, accept: PAGE } })
  t.equal(page.statusCode, 302)
  t.equal(page.headers.location, '/auth/login?scope=streaming&returnTo=%2Fauth%2Fplayer')
  const token = await app.inject({ url: '/auth/token', headers: { cookie: jar.header, 'sec-fetch-site': 'same-origin' } })
  t.equal(token.json().error.code, 'FST_SPOTIFY_MISSING_SCOPES', 'the token route lives under the prefix too')
})
