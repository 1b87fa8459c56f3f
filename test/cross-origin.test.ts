import fastifyCors from '@fastify/cors'
import t from 'tap'
import { build, SCOPES } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

const SPA = 'https://spa.example'
const EVIL = 'https://evil.example'

/** The recipe of the README: @fastify/cors for the SPA's origin only, with credentials; the plugin trusts it; the cookie crosses sites. */
async function crossOriginApp (t: Parameters<typeof build>[0]) {
  return await build(t, {
    emulator: { recordBodies: true },
    first: async (app) => { await app.register(fastifyCors, { origin: [SPA], credentials: true }) },
    plugin: {
      scopes: [...SCOPES, 'playlist-modify-private', 'streaming'],
      trustedOrigins: [SPA],
      playbackTokenPath: '/spotify-token',
      cookie: { secure: true, sameSite: 'none' }
    }
  })
}

t.test('the session cookie crosses sites; the login\'s own cookies do not need to', async (t) => {
  const built = await crossOriginApp(t)
  const start = await built.app.inject({ url: '/login' })
  for (const cookie of start.cookies as Array<{ name: string, sameSite?: string }>) t.equal(cookie.sameSite, 'Lax', cookie.name)
  const { callback } = await built.login()
  const session = (callback.cookies as Array<{ name: string, sameSite?: string, secure?: boolean }>).find((c) => c.name === '__Host-spotify_session')
  t.equal(session?.sameSite, 'None')
  t.equal(session?.secure, true)
})

t.test('a credentialed call from the trusted origin works, from another origin it is refused', async (t) => {
  const built = await crossOriginApp(t)
  const { jar } = await built.login()
  const from = (origin: string) => ({ origin, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' })

  // The browser's preflight of a JSON POST.
  const preflight = (origin: string) => built.request(jar, {
    method: 'OPTIONS',
    url: '/spotify/me/playlists',
    headers: { ...from(origin), 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }
  })
  const allowed = await preflight(SPA)
  t.equal(allowed.statusCode, 204)
  t.equal(allowed.headers['access-control-allow-origin'], SPA)
  t.equal(allowed.headers['access-control-allow-credentials'], 'true')
  const foreignPreflight = await preflight(EVIL)
  t.equal(foreignPreflight.headers['access-control-allow-origin'], undefined, 'no CORS grant: the browser sends nothing')

  // A read: the browser lets the SPA see the answer, never the other page.
  const read = await built.request(jar, { url: '/spotify/me', headers: from(SPA) })
  t.equal(read.statusCode, 200)
  t.equal(read.headers['access-control-allow-origin'], SPA)
  t.equal(read.headers['access-control-allow-credentials'], 'true')
  t.type(read.json().id, 'string')
  const foreignRead = await built.request(jar, { url: '/spotify/me', headers: from(EVIL) })
  t.equal(foreignRead.headers['access-control-allow-origin'], undefined, 'the other page cannot read it')

  // A write: the plugin's own origin check, whatever CORS said.
  const payload = JSON.stringify({ name: 'From the SPA', public: false })
  const write = await built.request(jar, { method: 'POST', url: '/spotify/me/playlists', headers: { ...from(SPA), 'content-type': 'application/json' }, payload })
  t.equal(write.statusCode, 201)
  t.equal(write.headers['access-control-allow-origin'], SPA)
  const calls = built.emulator.control.counters.api
  const foreignWrite = await built.request(jar, { method: 'POST', url: '/spotify/me/playlists', headers: { ...from(EVIL), 'content-type': 'application/json' }, payload })
  t.equal(foreignWrite.statusCode, 403)
  t.equal(foreignWrite.json().error.code, 'FST_SPOTIFY_CROSS_SITE')
  t.equal(built.emulator.control.counters.api, calls, 'nothing reached Spotify')

  // The playback token and logout follow the same origins.
  t.equal((await built.request(jar, { url: '/spotify-token', headers: from(EVIL) })).statusCode, 403)
  const token = await built.request(jar, { url: '/spotify-token', headers: from(SPA) })
  t.equal(token.statusCode, 200)
  t.equal(token.headers['access-control-allow-origin'], SPA)
  t.equal((await built.request(jar, { method: 'POST', url: '/logout', headers: from(EVIL) })).statusCode, 403)
  t.equal((await built.request(jar, { method: 'POST', url: '/logout', headers: from(SPA) })).statusCode, 303)
  t.equal((await built.request(jar, { url: '/spotify/me', headers: from(SPA) })).statusCode, 401, 'logged out')
})

t.test('the Web API\'s Vary joins the app\'s own, never replaces it', async (t) => {
  const apiUrl = await fakeUpstream(t, (upstream) => {
    upstream.get('/v1/browse/categories', async (_request, reply) => reply.header('vary', 'Accept-Encoding').send({ categories: { items: [] } }))
  })
  const built = await build(t, {
    first: async (app) => { await app.register(fastifyCors, { origin: [SPA], credentials: true }) },
    plugin: { apiUrl, trustedOrigins: [SPA] }
  })
  const { jar } = await built.login()
  const headers = { origin: SPA, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }
  const read = await built.request(jar, { url: '/spotify/browse/categories', headers })
  t.equal(read.statusCode, 200)
  t.equal(read.headers.vary, 'Origin, Accept-Encoding, Cookie', 'all: a cache keys on the origin, the encoding and the session cookie')
  const plain = await built.request(jar, { url: '/spotify/me', headers })
  t.equal(plain.headers.vary, 'Origin, Cookie', 'the app\'s own and the cookie when the Web API sends none')
})
