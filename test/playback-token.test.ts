import t from 'tap'
import { build, CookieJar, SCOPES, type Built } from './helpers/build.js'
import { sessionIdOf } from './helpers/sessions.js'

const APP_ORIGIN = 'http://127.0.0.1:5543'
const TRUSTED = 'https://player.example'
const PATH = '/spotify-token'

async function player (t: Parameters<typeof build>[0], plugin: Parameters<typeof build>[1] = {}): Promise<Built> {
  return await build(t, {
    ...plugin,
    plugin: { scopes: [...SCOPES, 'streaming'], playbackTokenPath: PATH, trustedOrigins: [TRUSTED], ...plugin.plugin }
  })
}

t.test('off by default: no token route', async (t) => {
  const { login, request } = await build(t)
  const { jar } = await login()
  const response = await request(jar, { url: PATH, headers: { 'sec-fetch-site': 'same-origin' } })
  t.equal(response.statusCode, 404)
})

t.test('a page of the app gets the access token, and nothing else, uncached', async (t) => {
  const built = await player(t)
  const { jar } = await built.login()
  const stored = await built.app.spotify.store.get(sessionIdOf(jar))
  t.ok(stored?.scope.includes('streaming'))
  const signs: Array<[string, Record<string, string>]> = [
    ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }],
    ['Origin of the app (a fetch that sends it)', { origin: APP_ORIGIN }],
    ['a trusted origin, cross-site by fetch metadata', { origin: TRUSTED, 'sec-fetch-site': 'cross-site' }],
    ['only the page\'s header (a browser without fetch metadata)', { 'x-spotify-auth': '1' }]
  ]
  for (const [name, headers] of signs) {
    const response = await built.request(jar, { url: PATH, headers })
    t.equal(response.statusCode, 200, name)
    t.same(response.json(), { accessToken: stored?.accessToken, expiresAt: stored?.expiresAt }, `${name}: exactly these two fields`)
    t.equal(response.headers['cache-control'], 'no-store', name)
    t.equal(response.headers.pragma, 'no-cache', name)
    t.equal(response.headers['x-content-type-options'], 'nosniff', name)
    t.match(response.headers['content-type'], /^application\/json/, name)
    t.notOk(response.body.includes(stored?.refreshToken as string), `${name}: never the refresh token`)
  }
  const head = await built.request(jar, { method: 'HEAD', url: PATH, headers: { 'sec-fetch-site': 'same-origin' } })
  t.equal(head.statusCode, 404, 'no HEAD route: it would load the token for nothing')
})

t.test('cross-site requests never get the token', async (t) => {
  const built = await player(t)
  const { jar } = await built.login()
  const stored = await built.app.spotify.store.get(sessionIdOf(jar))
  const attacks: Array<[string, Record<string, string>]> = [
    ['no headers at all (an old browser\'s <script src> or form)', {}],
    ['<script src> from another site', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' }],
    ['a form GET from another site', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }],
    ['a sibling subdomain (same-site)', { 'sec-fetch-site': 'same-site' }],
    ['typed in the address bar', { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' }],
    ['a fetch from a foreign origin', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
    ['a foreign origin that also sends the page\'s header', { origin: 'https://evil.example', 'x-spotify-auth': '1' }],
    ['cross-site fetch metadata with the page\'s header', { 'sec-fetch-site': 'cross-site', 'x-spotify-auth': '1' }],
    ['an opaque origin (sandboxed frame) with the page\'s header', { origin: 'null', 'x-spotify-auth': '1' }],
    ['the page\'s header with another value', { 'x-spotify-auth': 'yes' }],
    ['another port of the app\'s host', { origin: 'http://127.0.0.1:5544' }]
  ]
  for (const [name, headers] of attacks) {
    const response = await built.request(jar, { url: PATH, headers })
    t.equal(response.statusCode, 403, name)
    t.equal(response.json().error.code, 'FST_SPOTIFY_CROSS_SITE', name)
    t.notOk(response.body.includes(stored?.accessToken as string), `${name}: no token in the answer`)
    t.equal(response.headers['cache-control'], 'no-store', `${name}: refusals are not cached either`)
  }
  t.equal(built.emulator.control.counters.refresh_token, 0, 'refused before the session is even loaded')
})

t.test('without a session: 401', async (t) => {
  const { request } = await player(t)
  const response = await request(new CookieJar(), { url: PATH, headers: { 'sec-fetch-site': 'same-origin' } })
  t.equal(response.statusCode, 401)
  t.equal(response.json().error.code, 'FST_SPOTIFY_NO_SESSION')
})

t.test('without the streaming scope: 403 naming it, until the user grants it', async (t) => {
  const built = await build(t, { plugin: { optionalScopes: ['streaming'], playbackTokenPath: PATH } })
  const { jar } = await built.login()
  const refused = await built.request(jar, { url: PATH, headers: { 'sec-fetch-site': 'same-origin' } })
  t.equal(refused.statusCode, 403)
  t.same(refused.json(), { error: { status: 403, message: 'Missing Spotify scopes: streaming', code: 'FST_SPOTIFY_MISSING_SCOPES' } })

  // The page sends the user through the login again, asking for it.
  const start = await built.request(jar, { url: '/login?scope=streaming' })
  t.match(new URL(start.headers.location as string).searchParams.get('scope'), /(^| )streaming( |$)/)
  const authorize = await fetch(start.headers.location as string, { redirect: 'manual' })
  const back = new URL(authorize.headers.get('location') as string)
  await built.request(jar, { url: back.pathname + back.search })
  const granted = await built.request(jar, { url: PATH, headers: { 'sec-fetch-site': 'same-origin' } })
  t.equal(granted.statusCode, 200)
  t.type(granted.json().accessToken, 'string')
})

t.test('a token near expiry is refreshed first; the token never reaches the logs', async (t) => {
  // Tokens of 30 s are inside the 60 s refresh margin: every read refreshes.
  const built = await player(t, { emulator: { accessTokenTtl: 30, rotateRefreshTokens: true }, plugin: { refreshCooldown: 0 } })
  const { jar } = await built.login()
  const before = await built.app.spotify.store.get(sessionIdOf(jar))
  const response = await built.request(jar, { url: PATH, headers: { 'sec-fetch-site': 'same-origin' } })
  const after = await built.app.spotify.store.get(sessionIdOf(jar))
  t.equal(response.statusCode, 200)
  t.equal(built.emulator.control.counters.refresh_token, 1)
  t.not(after?.accessToken, before?.accessToken)
  t.same(response.json(), { accessToken: after?.accessToken, expiresAt: after?.expiresAt }, 'the refreshed token')
  const text = built.logs.join('')
  t.ok(text.includes(PATH), 'the request was logged')
  for (const secret of [before?.accessToken, after?.accessToken, before?.refreshToken, after?.refreshToken]) {
    t.ok(typeof secret === 'string' && secret.length >= 16)
    t.notOk(text.includes(secret as string), 'no token in the log')
  }
})
