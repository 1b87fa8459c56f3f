/**
 * What the diagnostics channels cost: the proxy (`GET /spotify/me`) and a
 * guarded route (`authenticate`) with nobody subscribed, twice (the spread
 * between the two is the noise of this machine), and with
 * fastify-spotify-auth/otel recording into the OpenTelemetry SDK (metrics
 * read by a reader; spans through a batch processor, as production runs
 * them, to an exporter that drops them): every span (`otel`), or one
 * trace in ten (`otel sampled`, a parent-based ratio sampler). The proxy's requests are distinct
 * (each one reaches the upstream, as in bench/run.ts); `proxy merged` sends
 * one URL over and over, so that most requests join a call in flight: the
 * cheapest proxied request there is, where a fixed cost weighs most.
 *
 * Each variant is a server process of its own (bench/lib/telemetry-server.ts),
 * all started together and loaded alike, the load generator here: in one
 * process, the load generator took as much CPU as the server, and a
 * variant inherited the heap and queues the one before it left behind. The
 * variants alternate round by round, so that a busy spell of the machine
 * spreads over all of them.
 *
 *   npx tsx bench/telemetry.ts [--rounds 5] [--duration 3] [--connections 20]
 *
 * BENCH_KEEP_PROFILES=<folder> keeps each profiled variant's CPU profile
 * there (`<variant>.cpuprofile`, with the measured window as `window`, on
 * the profile's clock) for a closer look in a profile viewer.
 *
 * The servers run the plugin as it ships, compiled into dist/ first
 * (bench/lib/compiled.ts); BENCH_PLUGIN=/path/to/plugin/index.ts runs the
 * same against another checkout of the plugin (see
 * bench/lib/telemetry-server.ts).
 */
import { parseArgs } from 'node:util'
import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { instrumentedStore } from '../plugin/diagnostics/store.js'
import { UsageCounter } from '../plugin/diagnostics/usage.js'
import { memoryStore } from '../plugin/index.js'
import { load } from './lib/load.js'
import { median, round } from './lib/stats.js'
import { TSX_LOADER } from './lib/child.js'
import { buildPlugin } from './lib/compiled.js'
import { categorise, mainThreadProfile, type CategoryRule, type Entry } from './lib/cpuprofile.js'

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

interface Server { readonly child: ChildProcess, readonly url: string, readonly cookie: string }

/**
 * Every thread of process `pid` on CPU `cpu` (taskset, where there is one
 * and two CPUs or more): the load generator on one, the server being
 * loaded on the other. Left to the scheduler, the server processes of one
 * build differed by 13–31% from run to run.
 */
function pin (pid: number, cpu: number): void {
  if (process.env.BENCH_PIN === '0') return
  try {
    execFileSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' })
  } catch {
    process.stderr.write(`bench: could not pin process ${pid} to CPU ${cpu} (taskset): figures will be noisier\n`)
  }
}
pin(process.pid, 0)

function serve (variant: string, nodeFlags: string[] = []): Promise<Server> {
  buildPlugin()
  const child = fork(fileURLToPath(new URL('./lib/telemetry-server.ts', import.meta.url)), [variant], {
    execArgv: ['--import', TSX_LOADER, ...nodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  pin(child.pid as number, 1)
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => { reject(new Error(`bench: the ${variant} server exited (${code})`)) })
    child.once('message', (message: { url: string, cookie: string }) => { resolve({ child, ...message }) })
  })
}

/** The server process's CPU time so far, µs. */
function cpuOf (server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (message: { cpu: number }) => { resolve(message.cpu) })
    server.child.send({ command: 'cpu' })
  })
}

/** Now on the server's CPU-profile clock, µs. */
function markOf (server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (message: { mark: number }) => { resolve(message.mark) })
    server.child.send({ command: 'mark' })
  })
}

function close (server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (message: { exported: number }) => { resolve(message.exported) })
    server.child.send({ command: 'close' })
  })
}

/** BENCH_VARIANTS=none,otel,otel metrics,otel spans,… picks others (`none` first: the others are measured against it). */
const variants = process.env.BENCH_VARIANTS?.split(',') ?? ['none', 'none again', 'otel', 'otel sampled']
const servers = new Map<string, Server>()
for (const variant of variants) servers.set(variant, await serve(variant === 'none again' ? 'none' : variant))
const targets = { proxy: '/spotify/me', 'proxy merged': '/spotify/me', guarded: '/guarded' } as const
const results = new Map<string, number[]>()
/** The server's CPU µs per request, per target and variant, round by round. */
const cpuPerRequest = new Map<string, number[]>()
/** Proxied requests while the adapter recorded: each makes at least one span, which the exporter must have seen (none dropped). */
let tracedRequests = 0

for (let r = 0; r < rounds + 1; r++) {
  // Each round starts one variant later: no variant always runs first.
  for (const variant of [...variants.slice(r % variants.length), ...variants.slice(0, r % variants.length)]) {
    const server = servers.get(variant) as Server
    const { url, cookie } = server
    for (const [name, path] of Object.entries(targets)) {
      const cpuBefore = await cpuOf(server)
      const result = await load({ url: url + path, headers: { cookie }, connections, duration, distinct: name === 'proxy' })
      const cpu = (await cpuOf(server)) - cpuBefore
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`bench: ${name} answered ${result.non2xx} non-2xx, ${result.errors} errors`)
      if (variant === 'otel' && name !== 'guarded') tracedRequests += result.requests
      // The first round warms up.
      if (r > 0) {
        results.set(`${name} ${variant}`, [...(results.get(`${name} ${variant}`) ?? []), result.rps])
        cpuPerRequest.set(`${name} ${variant}`, [...(cpuPerRequest.get(`${name} ${variant}`) ?? []), cpu / result.requests])
      }
    }
  }
}
const exported = servers.has('otel') ? await close(servers.get('otel') as Server) : 0
await Promise.all([...servers].filter(([variant]) => variant !== 'otel').map(([, server]) => close(server)))

/** One table: each target's variants, median, min and max over the rounds, and the median against `none`'s. */
function table (title: string, figures: Map<string, number[]>, digits: number): void {
  console.log(title)
  console.log('target                     median     min     max   vs none')
  for (const name of Object.keys(targets)) {
    const none = median(figures.get(`${name} none`) as number[])
    for (const variant of variants) {
      const values = figures.get(`${name} ${variant}`) as number[]
      const m = median(values)
      const cells = [m, Math.min(...values), Math.max(...values)].map((v) => String(round(v, digits)).padStart(7))
      console.log(`${`${name} ${variant}`.padEnd(25)} ${cells.join(' ')} ${`${round((m / none - 1) * 100, 1)}%`.padStart(8)}`)
    }
  }
}
table(`${rounds} rounds of ${duration} s, ${connections} connections, alternating; requests per second`, results, 0)
table('server CPU per request, µs (median; the cost on a busy machine too, where requests per second are not)', cpuPerRequest, 1)
console.log(`spans exported: ${exported} for ${tracedRequests} proxied requests traced${exported < tracedRequests ? ' (SPANS DROPPED: the figures flatter the adapter)' : ''}`)

/**
 * Where the server's CPU goes under the proxy's load, from a sampling
 * profile (node --cpu-prof) of one server per variant: shares inside one
 * process and one window, which a busy spell of the machine slows alike,
 * where the figures above compare processes and rounds (their noise is
 * the spread between `none` and `none again`). The adapter's share is what
 * recording costs the proxied call; garbage collection, which the adapter
 * adds to but cannot be told apart in a sample, is shown beside `none`'s.
 */
const SHARES: CategoryRule[] = [
  { name: 'the adapter (fastify-spotify-auth/otel), its own code', match: (leaf) => leaf.file.startsWith('plugin/otel/') },
  { name: 'the OpenTelemetry SDK, called by the adapter or exporting', match: (leaf, stack) => stack.some((f) => f.file.startsWith('plugin/otel/') || f.file.startsWith('@opentelemetry/')) },
  { name: 'garbage collection', match: (leaf) => leaf.file === '(garbage collector)' },
  { name: 'the rest (the plugin, Fastify, undici, Node, the kernel, the upstream)', match: () => true }
]

async function profiled (variant: string): Promise<Entry[]> {
  const dir = await mkdtemp(join(tmpdir(), 'fastify-spotify-auth-bench-'))
  try {
    const server = await serve(variant, ['--cpu-prof', '--cpu-prof-dir', dir])
    const options = { url: server.url + targets.proxy, headers: { cookie: server.cookie }, connections, duration, distinct: true }
    await load(options)
    const from = await markOf(server)
    await load({ ...options, duration: duration * 2 })
    const to = await markOf(server)
    await close(server)
    await new Promise((resolve) => { server.child.once('exit', resolve) })
    const { profile } = await mainThreadProfile(dir, '/bench/lib/telemetry-server.ts')
    const kept = process.env.BENCH_KEEP_PROFILES
    if (kept !== undefined) await writeFile(join(kept, `${variant}.cpuprofile`), JSON.stringify({ ...profile, window: [from, to] }))
    return categorise(profile, SHARES, from, to)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const PROFILED = ['none', 'otel', 'otel sampled']
const shares = new Map<string, Entry[]>()
for (const variant of PROFILED) shares.set(variant, await profiled(variant))
console.log(`\nwhere the server's CPU goes under the proxy's load (a CPU profile of one ${duration * 2} s run per variant, % of busy samples)`)
console.log(`${'share'.padEnd(72)} ${PROFILED.map((variant) => variant.padStart(12)).join(' ')}`)
for (const rule of SHARES) {
  const cells = PROFILED.map((variant) => `${(shares.get(variant)?.find((e) => e.name === rule.name)?.percent ?? 0).toFixed(1)}%`.padStart(12))
  console.log(`${rule.name.padEnd(72)} ${cells.join(' ')}`)
}
