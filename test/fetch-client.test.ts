/**
 * Every handle's `fetch` (`request.spotify.fetch`, `fastify.spotify.session(id).fetch`,
 * `fastify.spotify.app.fetch`): WHATWG fetch for the Web API, through the
 * plugin's call policy.
 */
import t from 'tap'
import { build, SCOPES } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'
import { sessionIdOf } from './helpers/sessions.js'

t.test('request.spotify.fetch: relative to {apiUrl}/v1/, with the session\'s bearer, a Response back', async (t) => {
  const { login, request, emulator, app } = await build(t, {
    before (app) {
      app.get('/me', async (request) => {
        const response = await request.spotify.fetch('me', { headers: { authorization: 'Bearer forged', accept: 'application/json', 'accept-encoding': 'gzip' } })
        return { status: response.status, statusText: response.statusText, url: response.url, type: response.headers.get('content-type'), body: await response.json() }
      })
    }
  })
  const { jar } = await login()
  emulator.control.clearApiRequests()
  const body = (await request(jar, { url: '/me' })).json()
  t.equal(body.status, 200)
  t.equal(body.statusText, 'OK')
  t.equal(body.url, `${emulator.url}/v1/me`)
  t.match(body.type, /application\/json/)
  t.equal(body.body.id, 'alice')
  const seen = emulator.control.apiRequests.at(-1)?.headers ?? {}
  t.equal(seen.authorization, `Bearer ${(await app.spotify.store.get(sessionIdOf(jar)))?.accessToken}`, 'the session\'s bearer, not the caller\'s')
  t.equal(seen['accept-encoding'], undefined, 'the body comes back as it is to be read')
  t.equal(seen.accept, 'application/json')
})

t.test('a handle\'s fetch sends bodies, follows next links and refuses anything outside {apiUrl}/v1/ before a token is read', async (t) => {
  const { app, login, emulator } = await build(t, { plugin: { scopes: [...SCOPES, 'playlist-modify-private'], onLogin (_request, { sessionId }) { ids.push(sessionId) } } })
  const ids: string[] = []
  await login()
  const session = app.spotify.session(ids[0] as string)
  const created = await session.fetch('me/playlists', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Made by fetch', public: false }) })
  t.equal(created.status, 201)
  t.equal((await created.json() as { name: string }).name, 'Made by fetch')
  const page = await (await session.fetch('me/playlists?limit=1')).json() as { next: string }
  const next = await session.fetch(new URL(page.next))
  t.equal(next.status, 200, 'an absolute URL under {apiUrl}/v1/')
  emulator.control.resetCounters()
  for (const input of ['../me', '%2e%2e/me', 'me/..%2f..%2fapi', 'http://127.0.0.1:9/v1/me', `${emulator.url}/me`, '/me']) {
    await t.rejects(session.fetch(input), { code: 'FST_SPOTIFY_FOREIGN_URL' }, input)
  }
  t.same(emulator.control.counters, { authorization_code: 0, refresh_token: 0, client_credentials: 0, api: 0 })
  await t.rejects(app.spotify.session('no-such-session').fetch('me'), { code: 'FST_SPOTIFY_NO_SESSION' })
})

t.test('fetch after a 401: one renewal, one more try; the app\'s fetch too', async (t) => {
  const { app, login, emulator } = await build(t, { plugin: { refreshCooldown: 0, onLogin (_request, { sessionId }) { ids.push(sessionId) } } })
  const ids: string[] = []
  await login()
  emulator.control.resetCounters()
  emulator.control.unauthorizeApiCalls(1)
  t.equal((await app.spotify.session(ids[0] as string).fetch('me')).status, 200)
  t.same(emulator.control.counters, { authorization_code: 0, refresh_token: 1, client_credentials: 0, api: 2 })
  emulator.control.unauthorizeApiCalls(2)
  t.equal((await app.spotify.session(ids[0] as string).fetch('me')).status, 401, 'a second 401 is the answer')
  const search = await app.spotify.app.fetch('search?q=a&type=track&limit=1')
  t.equal(search.status, 200)
  t.equal((await search.json() as { tracks: { items: unknown[] } }).tracks.items.length, 1)
})

t.test('answers without a body, repeated headers, and the caller\'s own abort', async (t) => {
  const upstream = await fakeUpstream(t, (app) => {
    app.put('/v1/me/nothing', async (_request, reply) => reply.code(204).send())
    app.get('/v1/cookies', async (_request, reply) => {
      reply.hijack()
      reply.raw.writeHead(200, [['content-type', 'application/json'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']])
      reply.raw.end('{}')
    })
    app.get('/v1/slow', async () => await new Promise(() => {}))
  })
  const { app } = await build(t, { plugin: { apiUrl: upstream } })
  const none = await app.spotify.app.fetch('me/nothing', { method: 'PUT' })
  t.equal(none.status, 204)
  t.equal(none.body, null)
  t.same((await app.spotify.app.fetch('cookies')).headers.getSetCookie(), ['a=1', 'b=2'])
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 50)
  await t.rejects(app.spotify.app.fetch('slow', { signal: controller.signal }), { name: 'AbortError' }, 'the signal\'s own reason, as fetch reports it')
})

t.test('a transport of one\'s own carries the checked call, under the timeout and the size cap', async (t) => {
  const { app, emulator } = await build(t, { plugin: { timeout: 300, proxyResponseLimit: 1024 } })
  const token = (await app.spotify.app.getToken()).accessToken
  const sent: Array<{ url: string, authorization: string | null, redirect: RequestInit['redirect'] }> = []
  const ok = await app.spotify.app.fetch('tracks/x', {
    transport: async (url, init) => {
      sent.push({ url: url.href, authorization: new Headers(init.headers).get('authorization'), redirect: init.redirect })
      return new Response(null, { status: 204, headers: { 'set-cookie': 'a=1' } })
    }
  })
  t.equal(ok.status, 204)
  t.same(sent, [{ url: `${emulator.url}/v1/tracks/x`, authorization: `Bearer ${token}`, redirect: 'manual' }])
  const big = app.spotify.app.fetch('tracks/x', { transport: async () => new Response('x'.repeat(2048)) })
  await t.rejects(big, { code: 'FST_SPOTIFY_UPSTREAM_TOO_LARGE', statusCode: 502 })
  const hung = (_url: URL, init: RequestInit): Promise<Response> => new Promise((_resolve, reject) => {
    init.signal?.addEventListener('abort', () => reject(init.signal?.reason))
  })
  await t.rejects(app.spotify.app.fetch('tracks/x', { transport: hung }), { code: 'FST_SPOTIFY_UPSTREAM_TIMEOUT', statusCode: 504 })
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 20)
  await t.rejects(app.spotify.app.fetch('tracks/x', { transport: hung, signal: controller.signal }), { name: 'AbortError' }, 'the caller\'s end, before the timeout')
})
