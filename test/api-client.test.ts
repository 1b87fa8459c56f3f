import { Readable } from 'node:stream'
import t from 'tap'
import { vanishingStore } from './helpers/stores.js'
import { memoryStore } from '../plugin/index.js'
import { build, type BuildOptions, CookieJar, deadUrl } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

/** A route that calls the Web API through request.spotify.api and reports what happened. */
async function withProbe (t: Parameters<typeof build>[0], options: BuildOptions = {}, loggedIn = true) {
  const built = await build(t, {
    ...options,
    before (app) {
      app.get('/probe', async (request, reply) => {
        try {
          const me = await request.spotify.api.get('me').json<{ id: string }>()
          return { ok: me.id }
        } catch (err) {
          const e = err as { code?: string, statusCode?: number, response?: { statusCode: number }, options?: { headers: Record<string, string> } }
          return reply.code(299).send({
            code: e.code,
            statusCode: e.statusCode ?? null,
            upstream: e.response?.statusCode ?? null,
            authorization: e.options?.headers.authorization ?? null
          })
        }
      })
    }
  })
  const jar = loggedIn ? (await built.login()).jar : new CookieJar()
  built.emulator.control.resetCounters()
  return { ...built, jar }
}

t.test('api: refreshes before expiry', async (t) => {
  const { request, jar, emulator } = await withProbe(t, { emulator: { accessTokenTtl: 30 } })
  const response = await request(jar, { url: '/probe' })
  t.type(response.json().ok, 'string')
  t.equal(emulator.control.counters.refresh_token, 1)
})

t.test('api: an upstream 401 causes one refresh and one retry', async (t) => {
  const { request, jar, emulator } = await withProbe(t, { plugin: { refreshCooldown: 0 } })
  emulator.control.unauthorizeApiCalls(1)
  t.type((await request(jar, { url: '/probe' })).json().ok, 'string')
  t.equal(emulator.control.counters.refresh_token, 1)
  t.equal(emulator.control.counters.api, 2)
})

t.test('api: a second 401 comes back as an HTTP error, without the bearer in its options', async (t) => {
  const { request, jar, emulator } = await withProbe(t, { plugin: { refreshCooldown: 0 } })
  emulator.control.unauthorizeApiCalls(2)
  const body = (await request(jar, { url: '/probe' })).json()
  t.equal(body.code, 'ERR_NON_2XX_3XX_RESPONSE')
  t.equal(body.upstream, 401)
  t.equal(body.authorization, null)
  t.equal(emulator.control.counters.api, 2)
})

t.test('api: a 401 to a token younger than refreshCooldown comes back without a token call', async (t) => {
  const { request, jar, emulator } = await withProbe(t)
  emulator.control.unauthorizeApiCalls(1)
  const body = (await request(jar, { url: '/probe' })).json()
  t.equal(body.upstream, 401)
  t.equal(emulator.control.counters.refresh_token, 0)
  t.equal(emulator.control.counters.api, 1, 'no retry')
})

t.test('api: 429 is retried after a short Retry-After', async (t) => {
  const { request, jar, emulator } = await withProbe(t)
  emulator.control.rateLimitApiCalls(1, 0)
  t.type((await request(jar, { url: '/probe' })).json().ok, 'string')
  t.equal(emulator.control.counters.api, 2)
})

t.test('api: a Retry-After beyond the cap fails at once', async (t) => {
  const { request, jar, emulator } = await withProbe(t, { plugin: { retry: { maxRetryAfter: 1000 } } })
  emulator.control.rateLimitApiCalls(1, 3600)
  const started = Date.now()
  const body = (await request(jar, { url: '/probe' })).json()
  t.equal(body.upstream, 429)
  t.equal(emulator.control.counters.api, 1, 'no retry')
  t.ok(Date.now() - started < 1000, 'did not wait')
})

t.test('api: retry limit 0 turns retries off', async (t) => {
  const { request, jar, emulator } = await withProbe(t, { plugin: { retry: { limit: 0 } } })
  emulator.control.failApiCalls(1, 503)
  t.equal((await request(jar, { url: '/probe' })).json().upstream, 503)
  t.equal(emulator.control.counters.api, 1)
})

t.test('api: a session deleted before the retry after a 401 fails with 401', async (t) => {
  const { store, arm } = vanishingStore()
  const { request, jar, emulator } = await withProbe(t, { plugin: { store } })
  arm()
  emulator.control.unauthorizeApiCalls(1)
  t.same((await request(jar, { url: '/probe' })).json(), { code: 'FST_SPOTIFY_NO_SESSION', statusCode: 401, upstream: null, authorization: null })
  t.equal(emulator.control.counters.api, 1)
})

t.test('api: timeouts become 504 and an unreachable API 502, as Fastify errors', async (t) => {
  const { request, jar, emulator } = await withProbe(t, { plugin: { timeout: 300, retry: { limit: 0 } } })
  emulator.control.hangApiCalls(1)
  t.same((await request(jar, { url: '/probe' })).json(), { code: 'FST_SPOTIFY_UPSTREAM_TIMEOUT', statusCode: 504, upstream: null, authorization: null })

  // Logged in on an app that reaches the Web API, then asked through one
  // that cannot (the login itself calls /v1/me).
  const store = memoryStore()
  const reachable = await withProbe(t, { plugin: { store } })
  const unreachable = await withProbe(t, { sharedEmulator: reachable.emulator, plugin: { store, apiUrl: await deadUrl(), retry: { limit: 0 } } }, false)
  t.same((await unreachable.request(reachable.jar, { url: '/probe' })).json(), { code: 'FST_SPOTIFY_UPSTREAM_ERROR', statusCode: 502, upstream: null, authorization: null })
})

t.test('api: a call that got no answer is tried again, as after a network error; a POST is not', async (t) => {
  const { app, emulator } = await build(t, { plugin: { timeout: 300, retry: { limit: 1 } } })
  await app.spotify.app.getToken()
  emulator.control.resetCounters()
  emulator.control.hangApiCalls(1)
  const found = await app.spotify.app.api.get('search', { searchParams: { q: 'a', type: 'track', limit: 1 } }).json<{ tracks: { items: unknown[] } }>()
  t.equal(found.tracks.items.length, 1)
  t.equal(emulator.control.counters.api, 2, 'one timeout, one retry')
  emulator.control.hangApiCalls(1)
  await t.rejects(app.spotify.app.api.post('search'), { code: 'FST_SPOTIFY_UPSTREAM_TIMEOUT' })
  t.equal(emulator.control.counters.api, 3, 'not retried: POST is not idempotent')
})

t.test('api: every kind of got body reaches the Web API whole (and could be sent again)', async (t) => {
  const upstream = await fakeUpstream(t, (app) => {
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
    app.put('/v1/nothing', async (_request, reply) => reply.code(204).send())
    app.get('/v1/odd', async (_request, reply) => reply.code(599).send({ odd: true }))
    app.put('/v1/echo', async (request) => ({ type: request.headers['content-type'] ?? null, body: String(request.body), also: request.headers['x-also'] ?? null, hidden: request.headers['x-hidden'] ?? null }))
  })
  const { app } = await build(t, { plugin: { apiUrl: upstream } })
  const api = app.spotify.app.api
  t.same(await api.put('echo', { json: { a: 1 } }).json(), { type: 'application/json', body: '{"a":1}', also: null, hidden: null })
  t.same(await api.put('echo', { body: Buffer.from('bytes'), headers: { 'content-type': 'application/octet-stream' } }).json(),
    { type: 'application/octet-stream', body: 'bytes', also: null, hidden: null })
  t.same(await api.put('echo', { body: Readable.from(['a stream ', 'of parts']), headers: { 'content-type': 'text/plain' } }).json(),
    { type: 'text/plain', body: 'a stream of parts', also: null, hidden: null })
  t.same(await api.put('echo', { body: 'x', headers: { 'content-type': 'text/plain', connection: 'x-hidden', 'x-hidden': 'no', 'x-also': ['1', '2'] as unknown as string } }).json(),
    { type: 'text/plain', body: 'x', also: '1, 2', hidden: null }, 'what Connection names stays behind; a repeated header is joined')
  const nothing = await api.put('nothing')
  t.equal(nothing.statusCode, 204)
  t.equal(nothing.body, '')
  const odd = await api.get('odd', { throwHttpErrors: false })
  t.equal(odd.statusCode, 599)
  t.same(JSON.parse(odd.body), { odd: true })
  const fetched = await app.spotify.app.fetch('odd')
  t.equal(fetched.statusText, '', 'and the same through fetch')
  const broken = new Readable({ read () { this.destroy(new Error('the disk went away')) } })
  await t.rejects(api.put('echo', { body: broken }), { code: 'FST_SPOTIFY_UPSTREAM_ERROR', statusCode: 502 }, 'a body that cannot be read fails as before: a 502')
})
