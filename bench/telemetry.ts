/**
 * What the diagnostics channels cost: the proxy (`GET /spotify/me`) and a
 * guarded route (`authenticate`) with nobody subscribed, twice (the spread
 * between the two is the noise of this machine), and with
 * fastify-spotify-auth/otel recording into the OpenTelemetry SDK (metrics
 * read by a reader; spans through a batch processor, as production runs
 * them, to an exporter that drops them). The proxy's requests are distinct
 * (each one reaches the upstream, as in bench/run.ts); `proxy merged` sends
 * one URL over and over, so that most requests join a call in flight: the
 * cheapest proxied request there is, where a fixed cost weighs most. The
 * variants alternate round by round, so that a busy spell of the machine
 * spreads over all of them.
 *
 *   npx tsx bench/telemetry.ts [--rounds 5] [--duration 3] [--connections 20]
 *
 * BENCH_PLUGIN=/path/to/plugin/index.ts runs the same against another
 * checkout of the plugin (the build before the channels: nobody subscribes
 * there either, and its `otel` rounds only measure the SDK idling).
 */
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { instrumentedStore } from '../plugin/diagnostics/store.js'
import { UsageCounter } from '../plugin/diagnostics/usage.js'
import { createSpotifyEmulator } from '../plugin/emulator/index.js'
import { memoryStore } from '../plugin/index.js'
import { instrumentSpotifyAuth } from '../plugin/otel/index.js'
import { load } from './lib/load.js'
import { median, round } from './lib/stats.js'
import { startStaticUpstream } from './lib/upstream.js'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    connections: { type: 'string', default: '20' }
  }
})
const rounds = Number(args.rounds)
const duration = Number(args.duration)
const connections = Number(args.connections)

/**
 * What a proxied call pays with nobody subscribed, in isolation: the usage
 * counter (a route template and two map increments per request sent) and
 * the store's wrapper (one property read and a closure per operation), in
 * nanoseconds a call, best of five runs of 200 000 calls.
 */
async function perCall (what: string, calls: number, run: (i: number) => unknown): Promise<void> {
  let best = Number.POSITIVE_INFINITY
  for (let r = 0; r < 5; r++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) await run(i)
    best = Math.min(best, Number(process.hrtime.bigint() - started) / calls)
  }
  console.log(`${what.padEnd(44)} ${String(round(best, 0)).padStart(6)} ns a call`)
}
{
  const usage = new UsageCounter()
  const plain = memoryStore()
  const wrapped = instrumentedStore(plain)
  await perCall('usage: a request to /v1/playlists/{id}/items', 200_000, (i) => usage.call(`/v1/playlists/p${i & 1023}/items?limit=2`, 'network'))
  await perCall('memory store get, as it is', 200_000, (i) => plain.get(`s${i & 1023}`))
  await perCall('memory store get, through the wrapper', 200_000, (i) => wrapped.get(`s${i & 1023}`))
}

const { default: spotifyAuth } = await import(process.env.BENCH_PLUGIN ?? '../plugin/index.js') as typeof import('../plugin/index.js')

const CLIENT = { clientId: 'bench-client', clientSecret: 'bench-client-secret' }
const REDIRECT_URI = 'http://127.0.0.1:5543/callback'
const upstream = await startStaticUpstream()
const emulator = await createSpotifyEmulator({ autoApprove: true, accessTokenTtl: 3600, clients: [{ ...CLIENT, redirectUris: [REDIRECT_URI], name: 'Bench' }] })
const app = Fastify({ logger: false })
await app.register(spotifyAuth, {
  ...CLIENT,
  redirectUri: REDIRECT_URI,
  secret: 'a-bench-session-secret-of-32-characters',
  scopes: ['user-read-private'],
  accountsUrl: emulator.url,
  apiUrl: upstream.url
})
app.get('/guarded', { onRequest: app.spotify.authenticate }, async () => ({ ok: true }))
const base = await app.listen({ host: '127.0.0.1', port: 0 })

const start = await app.inject({ url: '/login' })
const back = new URL(emulator.control.authorize(new URL(start.headers.location as string).searchParams))
const callback = await app.inject({ url: back.pathname + back.search, headers: { cookie: start.cookies.map((c) => `${c.name}=${c.value}`).join('; ') } })
const cookie = ([callback.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('spotify_session=')) as string).split(';')[0] as string

class Reader extends MetricReader {
  protected override async onForceFlush (): Promise<void> {}
  protected override async onShutdown (): Promise<void> {}
}
let exported = 0
const dropping: SpanExporter = { export (spans: ReadableSpan[], done) { exported += spans.length; done({ code: 0 }) }, async shutdown () {} }
const reader = new Reader()
const meterProvider = new MeterProvider({ readers: [reader] })
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropping)] })

const variants = ['none', 'none again', 'otel'] as const
const targets = { proxy: '/spotify/me', 'proxy merged': '/spotify/me', guarded: '/guarded' } as const
const results = new Map<string, number[]>()
/** Proxied requests while the adapter recorded: each makes at least one span, which the exporter must have seen (none dropped). */
let tracedRequests = 0

for (let r = 0; r < rounds + 1; r++) {
  for (const variant of variants) {
    const stop = variant === 'otel' ? instrumentSpotifyAuth({ meterProvider, tracerProvider }) : () => {}
    for (const [name, path] of Object.entries(targets)) {
      const result = await load({ url: base + path, headers: { cookie }, connections, duration, distinct: name === 'proxy' })
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`bench: ${name} answered ${result.non2xx} non-2xx, ${result.errors} errors`)
      // The first round warms up.
      if (variant === 'otel' && name !== 'guarded') tracedRequests += result.requests
      if (r > 0) results.set(`${name} ${variant}`, [...(results.get(`${name} ${variant}`) ?? []), result.rps])
    }
    stop()
  }
}
await reader.collect()
await tracerProvider.forceFlush()

console.log(`${rounds} rounds of ${duration} s, ${connections} connections, alternating; requests per second`)
console.log('target                   median     min     max   vs none')
for (const name of Object.keys(targets)) {
  const none = median(results.get(`${name} none`) as number[])
  for (const variant of variants) {
    const rps = results.get(`${name} ${variant}`) as number[]
    const m = median(rps)
    console.log(`${`${name} ${variant}`.padEnd(23)} ${String(round(m, 0)).padStart(7)} ${String(round(Math.min(...rps), 0)).padStart(7)} ${String(round(Math.max(...rps), 0)).padStart(7)} ${`${round((m / none - 1) * 100, 1)}%`.padStart(8)}`)
  }
}
console.log(`spans exported: ${exported} for ${tracedRequests} proxied requests traced${exported < tracedRequests ? ' (SPANS DROPPED: the figures flatter the adapter)' : ''}`)
await app.close()
await upstream.close()
await emulator.close()
