/**
 * fastify-spotify-auth/otel with the OpenTelemetry SDK's in-memory exporters:
 * the instruments and their attributes, and the spans of a refreshed proxy
 * call nested under @fastify/otel's request span.
 */
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import t from 'tap'
import { instrumentSpotifyAuth } from '../plugin/otel/index.js'
import { memoryStore, redisStore, type TokenStore } from '../plugin/index.js'
import { build, CookieJar } from './helpers/build.js'
import { eventually } from './helpers/eventually.js'
import { newClient, redisOrSkip, uniquePrefix } from './helpers/redis.js'
import { expireStored, sessionIdOf, storm } from './helpers/sessions.js'

/** A reader the test collects from when it wants. */
class TestReader extends MetricReader {
  protected override async onForceFlush (): Promise<void> {}
  protected override async onShutdown (): Promise<void> {}
}

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())

/** Providers of the test's own, the adapter subscribed to them until teardown. */
function otel (t: { teardown (fn: () => unknown): void }) {
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  const reader = new TestReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  const stop = instrumentSpotifyAuth({ tracerProvider, meterProvider })
  t.teardown(stop)
  /** The data points of `name`, as `[attributes, value]`. */
  async function points (name: string): Promise<Array<[Record<string, unknown>, unknown]>> {
    const { resourceMetrics } = await reader.collect()
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name)
    return (metric?.dataPoints ?? []).map((p: DataPoint<unknown>) => [p.attributes, p.value])
  }
  async function unit (name: string): Promise<string | undefined> {
    const { resourceMetrics } = await reader.collect()
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name)?.descriptor.unit
  }
  return { spans, tracerProvider, points, unit }
}

const count = (value: unknown): number => typeof value === 'number' ? value : (value as Histogram).count

t.test('a refreshed proxy call: spans nested under @fastify/otel\'s request span, and its instruments', async (t) => {
  const recorded = otel(t)
  const instrumentation = new FastifyOtelInstrumentation()
  instrumentation.setTracerProvider(recorded.tracerProvider)
  t.teardown(() => instrumentation.disable())
  const built = await build(t, {
    emulator: { accessTokenTtl: 3600 },
    first: async (app) => { await app.register(instrumentation.plugin()) }
  })
  const { app, request } = built
  const { jar } = await built.login()
  await expireStored(app.spotify.store, sessionIdOf(jar))
  recorded.spans.reset()
  t.equal((await request(jar, { url: '/spotify/playlists/abc/items?limit=2' })).statusCode, 404)

  const spans = recorded.spans.getFinishedSpans()
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
  const parentOf = (span: ReadableSpan) => byId.get(span.parentSpanContext?.spanId as string)
  const ancestors = (span: ReadableSpan): string[] => {
    const names: string[] = []
    for (let at = parentOf(span); at !== undefined; at = parentOf(at)) names.push(at.name)
    return names
  }
  const webApi = spans.find((s) => s.name === 'GET /v1/playlists/{id}/items')
  const refresh = spans.find((s) => s.name === 'spotify_auth refresh')
  t.ok(webApi !== undefined && refresh !== undefined, spans.map((s) => s.name).join(', '))
  t.ok(ancestors(webApi as ReadableSpan).includes('request'), 'the Web API call nests under the request span')
  t.ok(ancestors(refresh as ReadableSpan).includes('request'), 'so does the refresh')
  t.match(webApi?.attributes, { 'http.request.method': 'GET', 'url.template': '/v1/playlists/{id}/items', 'http.response.status_code': 404, 'spotify_auth.source': 'network' })
  t.match(refresh?.attributes, { 'spotify_auth.reason': 'margin', 'spotify_auth.outcome': 'refreshed', 'spotify_auth.merged': false })

  t.match(await recorded.points('spotify_auth.web_api.calls'), [
    [{ 'url.template': '/v1/me', 'http.response.status_code': 200, 'spotify_auth.source': 'network' }, 1],
    [{ 'url.template': '/v1/playlists/{id}/items', 'http.response.status_code': 404, 'http.request.method': 'GET' }, 1]
  ])
  const durations = await recorded.points('http.client.request.duration')
  t.equal(durations.length, 2)
  t.equal(await recorded.unit('http.client.request.duration'), 's')
  t.match(await recorded.points('spotify_auth.refreshes'), [[{ 'spotify_auth.reason': 'margin', 'spotify_auth.outcome': 'refreshed' }, 1]])
  t.equal(count((await recorded.points('spotify_auth.refresh.duration'))[0]?.[1]), 1)
  t.match(await recorded.points('spotify_auth.token.exchange.duration'), [[{ 'spotify_auth.grant': 'authorization_code' }]])
  t.match(await recorded.points('spotify_auth.logins'), [[{}, 1]])
  t.same(await recorded.points('spotify_auth.store.operation.duration'), [], 'the memory store\'s operations never leave the process: no durations')
})

t.test('outcomes: merged, revoked and failed refreshes, errors, logouts and the rate-limit window', async (t) => {
  const recorded = otel(t)
  const inner = memoryStore()
  let down = false
  const store: TokenStore = {
    get: async (id) => { if (down) throw new Error('ECONNREFUSED'); return await inner.get(id) },
    set: (id, token) => inner.set(id, token),
    update: (id, previous, next) => inner.update(id, previous, next),
    delete: (id, expected) => inner.delete(id, expected)
  }
  const built = await build(t, { emulator: { accessTokenTtl: 3600 }, plugin: { store } })
  const { app, emulator, request } = built
  const { jar } = await built.login()
  await expireStored(app.spotify.store, sessionIdOf(jar))
  t.same((await storm([built], jar, 3)).map((r) => r.statusCode), [200, 200, 200])
  await expireStored(app.spotify.store, sessionIdOf(jar))
  emulator.control.revokeAll()
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 401)
  const { jar: failing } = await built.login(new CookieJar())
  await expireStored(app.spotify.store, sessionIdOf(failing))
  emulator.control.failTokenCalls(1, 500)
  t.equal((await request(failing, { url: '/spotify/me' })).statusCode, 502)
  const outcomes = (await recorded.points('spotify_auth.refreshes')).map(([a, v]) => [a['spotify_auth.outcome'], v])
  t.same(outcomes.sort(), [['failed', 1], ['merged', 2], ['refreshed', 1], ['revoked', 1]])
  t.match(await recorded.points('spotify_auth.logouts'), [[{ 'spotify_auth.reason': 'revoked' }, 1]])

  const { jar: other } = await built.login(new CookieJar())
  emulator.control.rateLimitApiCalls(1, 30)
  t.equal((await request(other, { url: '/spotify/me' })).statusCode, 429)
  t.equal((await request(other, { url: '/spotify/me' })).statusCode, 429, 'refused before it went out')
  const windows = await recorded.points('spotify_auth.rate_limit.window')
  t.match(windows, [[{ 'spotify_auth.reason': 'rate' }], [{ 'spotify_auth.reason': 'quota' }, 0]])
  t.ok((windows[0]?.[1] as number) > 25, 'the rate window is open for about 30 s')
  const calls = await recorded.points('spotify_auth.web_api.calls')
  t.ok(calls.some(([a]) => a['error.type'] === 'FST_SPOTIFY_RATE_LIMITED' && a['http.response.status_code'] === undefined), 'a refused call counts, with its error')
  const durations = await recorded.points('http.client.request.duration')
  t.notOk(durations.some(([a]) => a['error.type'] === 'FST_SPOTIFY_RATE_LIMITED'), 'a call that never went out has no HTTP duration')
  const realNow = Date.now
  Date.now = () => realNow() + 31_000
  try {
    t.equal((await request(other, { url: '/spotify/me' })).statusCode, 200, 'past the window')
  } finally {
    Date.now = realNow
  }
  t.match(await recorded.points('spotify_auth.rate_limit.window'), [[{ 'spotify_auth.reason': 'rate' }, 0], [{ 'spotify_auth.reason': 'quota' }, 0]], 'closed')

  down = true
  await t.rejects(app.spotify.session(sessionIdOf(other)).getToken(), { code: 'FST_SPOTIFY_STORE_UNAVAILABLE' })
  const store2 = await recorded.points('spotify_auth.store.operation.duration')
  t.ok(store2.some(([a]) => a['error.type'] === 'Error'), 'a store failure without a code: its name')
  down = false

  emulator.control.failTokenCalls(1, 500)
  const failed = await built.login(new CookieJar())
  t.equal(failed.callback.statusCode, 502)
  t.ok((await recorded.points('spotify_auth.token.exchange.duration')).some(([a]) => a['error.type'] === 'FST_SPOTIFY_UPSTREAM_ERROR'))
  const spans = recorded.spans.getFinishedSpans()
  t.ok(spans.some((s) => s.name === 'spotify_auth token exchange' && s.status.code === 2), 'a failed exchange\'s span is an error')
})

t.test('across instances on Redis: the lock wait, as a histogram and a span under the refresh', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  const recorded = otel(t)
  const prefix = uniquePrefix(t, redis)
  const first = await build(t, { plugin: { store: redisStore({ client: await newClient(t), prefix }) } })
  const second = await build(t, { sharedEmulator: first.emulator, plugin: { store: redisStore({ client: await newClient(t), prefix }) } })
  const { jar } = await first.login()
  await expireStored(first.app.spotify.store, sessionIdOf(jar))
  const held = first.emulator.control.holdTokenCalls()
  const leading = first.request(jar, { url: '/spotify/me' })
  await held.arrived
  const waiting = second.request(jar, { url: '/spotify/me' })
  await eventually('the waiter tried the lock', async () => (await recorded.points('spotify_auth.store.operation.duration'))
    .some(([a, v]) => a['spotify_auth.store.operation'] === 'lock' && count(v) >= 2))
  held.release()
  t.equal((await leading).statusCode, 200)
  t.equal((await waiting).statusCode, 200)
  t.equal(count((await recorded.points('spotify_auth.lock.wait.duration'))[0]?.[1]), 2, 'the holder\'s round trip to the lock, and the waiter\'s wait')
  const spans = recorded.spans.getFinishedSpans()
  const waits = spans.filter((s) => s.name === 'spotify_auth lock wait')
  const parents = waits.map((wait) => spans.find((s) => s.spanContext().spanId === wait.parentSpanContext?.spanId))
  t.same(parents.map((p) => p?.name), ['spotify_auth refresh', 'spotify_auth refresh'], 'each under its refresh')
  t.same(parents.map((p) => p?.attributes['spotify_auth.outcome']).sort(), ['merged', 'refreshed'])
  t.equal(trace.getActiveSpan(), undefined)
})

t.test('with no providers given, the global ones; stopping unsubscribes', async (t) => {
  const spans = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  t.ok(trace.setGlobalTracerProvider(provider), 'the global tracer provider is this test\'s')
  t.teardown(() => trace.disable())
  const stop = instrumentSpotifyAuth()
  const built = await build(t)
  await built.login()
  t.ok(spans.getFinishedSpans().some((s) => s.name === 'spotify_auth token exchange'), 'recorded with the global provider')
  stop()
  spans.reset()
  await built.login()
  t.same(spans.getFinishedSpans(), [], 'nothing once stopped')
})
