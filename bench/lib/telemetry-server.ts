/**
 * One server process of bench/telemetry.ts: the app (the proxy and a
 * guarded route) and its static upstream, with fastify-spotify-auth/otel
 * recording when its variant says so. Forked by bench/telemetry.ts, never
 * run directly: it reports `{ url, cookie }` once a session is logged in,
 * `{ cpu }` and `{ mark }` when asked, and `{ exported }` (spans the exporter saw) when
 * asked to close.
 *
 * BENCH_PLUGIN=/path/to/plugin/index.ts runs another checkout of the plugin
 * (the build before the channels: nobody subscribes there either, and its
 * `otel` variant only measures the SDK idling).
 */
import Fastify from 'fastify'
import { metrics, trace } from '@opentelemetry/api'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { compiledEmulator, compiledOtel, compiledPlugin } from './compiled.js'
import { startStaticUpstream } from './upstream.js'

const variant = process.argv[2] ?? 'none'
// The plugin as it ships (compiled.ts), not its sources through tsx.
const { default: spotifyAuth } = await compiledPlugin()
const { createSpotifyEmulator } = await compiledEmulator()
const { instrumentSpotifyAuth } = await compiledOtel()

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
const url = await app.listen({ host: '127.0.0.1', port: 0, backlog: 2048 })

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
// Spans go through a batch processor, as OpenTelemetry advises for
// production (a SimpleSpanProcessor exports each span as it ends). `otel`
// records every span; `otel sampled` one trace in ten (a parent-based
// ratio sampler, a common production setting), metrics in full either way.
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(dropping)],
  ...(variant === 'otel sampled' ? { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }) } : {})
})
const meterProvider = new MeterProvider({ readers: [reader] })
// `otel metrics` and `otel spans` record one half each (the other to the
// API's no-op provider): which half costs what.
if (variant === 'otel metrics') instrumentSpotifyAuth({ meterProvider, tracerProvider: trace.getTracerProvider() })
else if (variant === 'otel spans') instrumentSpotifyAuth({ meterProvider: metrics.getMeterProvider(), tracerProvider })
else if (variant.startsWith('otel')) instrumentSpotifyAuth({ meterProvider, tracerProvider })

async function close (): Promise<void> {
  await reader.collect()
  await tracerProvider.forceFlush()
  await app.close()
  await upstream.close()
  await emulator.close()
  process.send?.({ exported }, () => process.exit(0))
}

process.on('message', (message: { command: string }) => {
  if (message.command === 'close') close().catch((err: unknown) => { console.error(err); process.exit(1) })
  // This process's CPU time so far (µs, user and system, every thread):
  // per request, it reads the same on a busy machine as on a quiet one,
  // where requests per second do not.
  if (message.command === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpu: user + system })
  }
  // Now on the clock of a CPU profile (node --cpu-prof), µs: the bounds of a load window.
  if (message.command === 'mark') process.send?.({ mark: Number(process.hrtime.bigint() / 1000n) })
})
process.send?.({ url, cookie })
