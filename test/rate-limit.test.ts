import type { LightMyRequestResponse } from 'fastify'
import t, { type Test as Tap } from 'tap'
import { errorCodes, memoryStore, RateLimitedError, type TokenStore } from '../plugin/index.js'
import { retryAfterMs } from '../plugin/retry-after.js'
import { build, type Built, CookieJar, parsedLogs } from './helpers/build.js'

/** Routes that reach the Web API through each got client, answering what happened. */
function probes (app: Built['app']): void {
  const report = (call: () => Promise<unknown>) => async () => {
    try {
      return { ok: await call() }
    } catch (err) {
      const e = err as { code?: string, statusCode?: number, retryAfter?: number, response?: { statusCode: number } }
      return { code: e.code, statusCode: e.statusCode, retryAfter: e.retryAfter, upstream: e.response?.statusCode }
    }
  }
  app.get('/probe/api', (request) => report(() => request.spotify.api.get('me').json())())
  app.get('/probe/app', report(() => app.spotify.app.api.get('search', { searchParams: { q: 'blue', type: 'track' } }).json()))
  app.get('/probe/handle', async (request) => report(() => app.spotify.session(request.spotify.sessionId as string).api.get('me').json())())
  // Errors left to Fastify's default handler: status and Retry-After from the error.
  app.get('/thrown', async (request) => await request.spotify.api.get('me').json())
}

/** Asserts a blocked answer: 429, our code, a whole `Retry-After` of at least 1 s. */
function assertBlocked (t: Tap, response: LightMyRequestResponse, what: string): void {
  t.equal(response.statusCode, 429, `${what}: 429`)
  // The plugin's routes answer in the Web API's shape; Fastify's default handler in its own.
  const body = response.json()
  t.equal(body.error?.code ?? body.code, errorCodes.RATE_LIMITED, `${what}: FST_SPOTIFY_RATE_LIMITED`)
  const retryAfter = Number(response.headers['retry-after'])
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `${what}: Retry-After ${String(response.headers['retry-after'])}`)
}

t.test('the proxy passes the first 429 on, then answers 429 itself until Retry-After has passed', async (t) => {
  const { request, login, emulator } = await build(t, { before: probes, plugin: { retry: { limit: 0 } } })
  const { jar } = await login()
  emulator.control.resetCounters()
  emulator.control.rateLimitApiCalls(1, 1)
  const first = await request(jar, { url: '/spotify/me' })
  t.equal(first.statusCode, 429)
  t.equal(first.headers['retry-after'], '1', 'Spotify\'s Retry-After')
  t.same(first.json(), { error: { status: 429, message: 'API rate limit exceeded' } }, 'Spotify\'s own body')
  const until = Date.now() + 1000
  t.equal(emulator.control.counters.api, 1)

  // Until the window has passed, nothing reaches Spotify; then calls resume.
  let blocked = 0
  for (;;) {
    const response = await request(jar, { url: '/spotify/me' })
    if (response.statusCode === 200) break
    assertBlocked(t, response, 'GET through the proxy')
    t.equal(emulator.control.counters.api, 1, 'no call reached Spotify')
    blocked++
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(blocked > 0, 'at least one call was held back')
  t.ok(Date.now() >= until - 50, 'calls resumed once Retry-After had passed')
  t.equal(emulator.control.counters.api, 2)
})

t.test('every got client is held back too, and so are writes and logins', async (t) => {
  const { app, request, login, emulator } = await build(t, { before: probes, plugin: { retry: { limit: 0 } } })
  const { jar } = await login()
  emulator.control.rateLimitApiCalls(1, 60)
  const first = (await request(jar, { url: '/probe/api' })).json()
  t.equal(first.upstream, 429, 'request.spotify.api: Spotify\'s 429 as an HTTPError')
  emulator.control.resetCounters()
  for (const path of ['/probe/api', '/probe/app', '/probe/handle']) {
    const body = (await request(jar, { url: path })).json()
    t.equal(body.code, 'FST_SPOTIFY_RATE_LIMITED', path)
    t.equal(body.statusCode, 429, path)
    t.ok(body.retryAfter > 50 && body.retryAfter <= 60, `${path}: seconds left`)
  }
  assertBlocked(t, await request(jar, { url: '/thrown' }), 'an error left to Fastify\'s handler')
  assertBlocked(t, await request(jar, { method: 'PUT', url: '/spotify/me/library?uris=spotify:track:x', payload: '' }), 'PUT through the proxy')
  const other = await login(new CookieJar())
  assertBlocked(t, other.callback, 'a login (its GET /v1/me)')
  t.equal(emulator.control.counters.api, 0, 'nothing reached the Web API')
  t.equal(emulator.control.counters.client_credentials, 0, 'the app token was not even fetched')
  t.ok(new RateLimitedError('3') instanceof Error)
  await app.close()
})

t.test('apps sharing a memory store share the window; a store without the capability keeps one per app', async (t) => {
  const store = memoryStore()
  const a = await build(t, { plugin: { store } })
  const b = await build(t, { sharedEmulator: a.emulator, plugin: { store } })
  const c = await build(t, { sharedEmulator: a.emulator })
  const { jar } = await a.login()
  const alone = await c.login()
  a.emulator.control.rateLimitApiCalls(1, 60)
  t.equal((await a.request(jar, { url: '/spotify/me' })).statusCode, 429)
  a.emulator.control.resetCounters()
  assertBlocked(t, await b.request(jar, { url: '/spotify/me' }), 'the sibling app on the same store')
  t.equal(a.emulator.control.counters.api, 0)
  t.equal((await c.request(alone.jar, { url: '/spotify/me' })).statusCode, 200, 'an app on another store is not held back')

  // A custom store without rateLimit: the plugin keeps the window itself.
  const plain = memoryStore()
  const custom: TokenStore = { get: plain.get, set: plain.set, update: plain.update, delete: plain.delete }
  const d = await build(t, { sharedEmulator: a.emulator, plugin: { store: custom } })
  const dj = (await d.login()).jar
  a.emulator.control.rateLimitApiCalls(1, 60)
  t.equal((await d.request(dj, { url: '/spotify/me' })).statusCode, 429)
  assertBlocked(t, await d.request(dj, { url: '/spotify/me' }), 'a store without the capability')
})

t.test('a store that fails to take the window: logged, and this instance holds it anyway', async (t) => {
  const plain = memoryStore()
  const failing: TokenStore = {
    ...plain,
    rateLimit: { hold: () => Promise.reject(new Error('store down')), until: () => 0 }
  }
  const { request, login, emulator, logs } = await build(t, { plugin: { store: failing } })
  const { jar } = await login()
  emulator.control.rateLimitApiCalls(1, 60)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 429)
  assertBlocked(t, await request(jar, { url: '/spotify/me' }), 'after a failed hold')
  const warning = parsedLogs(logs).find((line) => line.msg === 'fastify-spotify-auth: the store could not share the rate-limit window')
  t.ok(warning, 'warned')
  t.match(warning?.err, { message: 'store down' })
})

t.test('with errorHandler: \'app\', the app\'s handler gets the seconds left and the header', async (t) => {
  const store = memoryStore()
  let seen: unknown
  const { request, login, emulator } = await build(t, {
    plugin: { store, errorHandler: 'app' },
    before (app) {
      app.setErrorHandler((error, _request, reply) => {
        seen = error
        return reply.code(429).send({ app: true })
      })
    }
  })
  const { jar } = await login()
  // Opened by another app on the same store.
  await store.rateLimit?.hold(Date.now() + 60_000)
  emulator.control.resetCounters()
  const response = await request(jar, { url: '/spotify/me' })
  t.equal(response.statusCode, 429)
  t.match(seen, { code: 'FST_SPOTIFY_RATE_LIMITED', retryAfter: Number, headers: { 'retry-after': String } }, 'the app\'s handler gets the seconds and the header')
  t.equal(emulator.control.counters.api, 0)
})

t.test('Retry-After: seconds, an HTTP date, or nothing', async (t) => {
  const now = Date.parse('2026-12-01T12:00:00Z')
  t.equal(retryAfterMs('2', now), 2000)
  t.equal(retryAfterMs([' 3 '], now), 3000)
  t.equal(retryAfterMs('Tue, 01 Dec 2026 12:00:05 GMT', now), 5000)
  t.equal(retryAfterMs('86400000', now), 24 * 60 * 60 * 1000, 'capped at a day')
  for (const value of [undefined, '0', '-1', 'soon', 'Tue, 01 Dec 2026 11:00:00 GMT']) {
    t.equal(retryAfterMs(value, now), undefined, `${String(value)}: no window`)
  }
})

t.test('a 429 without a readable Retry-After opens no window', async (t) => {
  const { request, login, emulator } = await build(t)
  const { jar } = await login()
  emulator.control.rateLimitApiCalls(1, 0)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 429)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200)
})
