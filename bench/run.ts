/**
 * Side-by-side benchmark of the authenticated proxy against @fastify/http-proxy.
 *
 *   npx tsx bench/run.ts [--connections 50] [--duration 5] [--rounds 5] [--warmup 2] [--quiet-wait 5]
 *                        [--pairs 16] [--pair-duration 2]
 *                        [--storm 1000] [--storms 3] [--sessions 100000]
 *                        [--skip-storm] [--skip-memory] [--out bench/results/latest.json]
 *
 * Every server runs in one child process (bench/lib/servers.ts); autocannon
 * runs here. See bench/README.md for what each target measures.
 */
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { loadavg } from 'node:os'
import { startServers, TSX_LOADER, type ServerProcess } from './lib/child.js'
import { storm, type StormResult } from './lib/load.js'
import { machine } from './lib/machine.js'
import type { StormCheck, StormSession } from './lib/protocol.js'
import { measurePairs, measureTargets, type LoadSettings, type PairedResult, type Target, type TargetSummary } from './lib/rounds.js'
import { median, percentile, round } from './lib/stats.js'
import type { MemoryResult, Variant } from './memory.js'

/**
 * Memory per session over the raw token bytes. 1.5× until the token carried
 * what Spotify's 2026 rules need: the user id, the time of authorization
 * and the refresh token's horizon (three fields, about 57 bytes a session);
 * 1.65× until the memory store moved to toad-cache's least-recently-used
 * map, whose linked entries cost about 63 bytes a session more than a
 * re-ordered Map and read about three times faster (docs/benchmarks.md).
 */
const MEMORY_TARGET = 1.8

/** The proxy's rate against @fastify/http-proxy with a fixed bearer. */
const PROXY_TARGET = 1.2

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    pairs: { type: 'string', default: '16' },
    'pair-duration': { type: 'string', default: '2' },
    warmup: { type: 'string', default: '2' },
    'quiet-wait': { type: 'string', default: '5' },
    storm: { type: 'string', default: '1000' },
    storms: { type: 'string', default: '3' },
    sessions: { type: 'string', default: '100000' },
    'skip-storm': { type: 'boolean', default: false },
    'skip-memory': { type: 'boolean', default: false },
    out: { type: 'string', default: fileURLToPath(new URL('./results/latest.json', import.meta.url)) }
  }
})

function positive (name: string, value: string | undefined, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`bench: --${name} must be an integer from 1 to ${max}`)
  return n
}

const settings: LoadSettings = {
  connections: positive('connections', args.connections, 1000),
  duration: positive('duration', args.duration, 60),
  rounds: positive('rounds', args.rounds, 9),
  warmup: Number(args.warmup) === 0 ? 0 : positive('warmup', args.warmup, 30),
  quietWait: Number(args['quiet-wait']) === 0 ? 0 : positive('quiet-wait', args['quiet-wait'], 60)
}
const pairs = positive('pairs', args.pairs, 100)
const pairDuration = positive('pair-duration', args['pair-duration'], 60)
const stormSize = positive('storm', args.storm, 5000)
const storms = positive('storms', args.storms, 9)
const sessions = positive('sessions', args.sessions, 1_000_000)

const log = (line: string): void => { process.stderr.write(line + '\n') }

// ── the storm ────────────────────────────────────────────────────────────────

interface StormRun { expired: boolean, result: Omit<StormResult, 'latencies'>, check: StormCheck }

async function runStorms (server: ServerProcess): Promise<StormRun[]> {
  const { appUrl } = server.info
  const runs: StormRun[] = []
  for (let i = 0; i < storms; i++) {
    // An expired session (the storm proper) and a fresh one (the control), alternately.
    for (const expired of [true, false]) {
      const session = await server.call<StormSession>({ command: 'storm-session', expired })
      const { latencies: _latencies, ...result } = await storm(`${appUrl}/bare`, `${appUrl}/spotify/me`,
        { cookie: session.cookie, accept: 'application/json' }, stormSize)
      const check = await server.call<StormCheck>({ command: 'storm-check', cookie: session.cookie })
      runs.push({ expired, result, check })
      log(`storm ${i + 1}/${storms} ${expired ? 'expired' : 'fresh  '}: ${check.refreshCalls} token call(s), ` +
        `p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, statuses ${JSON.stringify(result.statuses)}, ` +
        `${check.upstreamCallsWithStoredToken}/${check.upstreamCalls} upstream calls with the stored token`)
    }
  }
  return runs
}

// ── memory ───────────────────────────────────────────────────────────────────

const run = promisify(execFile)

async function memory (variant: Variant): Promise<MemoryResult> {
  const script = fileURLToPath(new URL('./memory.ts', import.meta.url))
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', TSX_LOADER, script, variant, String(sessions)], {
    timeout: 120_000,
    maxBuffer: 1 << 20
  })
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as MemoryResult
}

// ── output ───────────────────────────────────────────────────────────────────

function row (cells: Array<string | number>, widths: number[]): string {
  return cells.map((cell, i) => i === 0 ? String(cell).padEnd(widths[i] as number) : String(cell).padStart(widths[i] as number)).join('  ')
}

function check (ok: boolean): string {
  return ok ? 'ok' : 'MISSED'
}

function table (targets: TargetSummary[], ratios: Ratios, stormRuns: StormRun[], memoryResults: MemoryResult[]): string {
  const widths = [44, 7, 13, 7, 7, 6, 6, 6]
  const lines = [
    `fastify-spotify-auth bench: ${settings.connections} connections, ${settings.duration} s × ${settings.rounds} rounds per target (median), keep-alive`,
    '',
    row(['target', 'req/s', 'min–max', 'p50 ms', 'p99 ms', 'server', 'client', 'other'], widths),
    row(widths.map((w) => '-'.repeat(w)), widths)
  ]
  for (const t of targets) {
    lines.push(row([`${t.key.padEnd(3)} ${t.name}`, Math.round(t.rps), `${Math.round(t.rpsMin)}–${Math.round(t.rpsMax)}`,
      t.p50.toFixed(2), t.p99.toFixed(2), `${Math.round(t.serverCpu)}%`, `${Math.round(t.clientCpu)}%`, `${Math.round(t.otherCpu)}%`], widths))
  }
  lines.push('(CPU in % of one core: server = the server process, client = autocannon, other = the rest of the machine: kernel network work not charged to a process, and any other process)')
  lines.push('',
    'ratios                                      value    target',
    `3/2  req/s  (ours vs @fastify/http-proxy)   ${ratios.proxyVsPeerRps.toFixed(3).padStart(5)}   ≥ 1.20   ${check(ratios.proxyVsPeerRps >= PROXY_TARGET)}`,
    `3/2  req/s, round by round (median)         ${ratios.proxyVsPeerPaired.toFixed(3).padStart(5)}   ≥ 1.20   ${check(ratios.proxyVsPeerPaired >= PROXY_TARGET)}`,
    `2/3  server CPU per request (peer vs ours)  ${ratios.peerVsProxyCpu.toFixed(3).padStart(5)}   (info)`,
    `3/2  req/s, ${String(pairs).padStart(2)} pairs of ${pairDuration} s (median)      ${ratios.pairs.rps[1].toFixed(3).padStart(5)}   ≥ 1.20   ${check(ratios.pairs.rps[1] >= PROXY_TARGET)}   quartiles ${ratios.pairs.rps[0].toFixed(3)}–${ratios.pairs.rps[2].toFixed(3)}`,
    `2/3  CPU per request, the same pairs        ${ratios.pairs.cpu[1].toFixed(3).padStart(5)}   (info)   quartiles ${ratios.pairs.cpu[0].toFixed(3)}–${ratios.pairs.cpu[2].toFixed(3)}`,
    `3/2  p99    (ours vs @fastify/http-proxy)   ${ratios.proxyVsPeerP99.toFixed(3).padStart(5)}   ≤ 1.10   ${check(ratios.proxyVsPeerP99 <= 1.1)}`,
    `3/1  req/s  (ours vs upstream direct)       ${ratios.proxyVsDirectRps.toFixed(3).padStart(5)}   (info)`,
    `2/1  req/s  (peer vs upstream direct)       ${ratios.peerVsDirectRps.toFixed(3).padStart(5)}   (info)`,
    `3p/3q req/s (links rewritten vs not)        ${ratios.rewriteVsPlainRps.toFixed(3).padStart(5)}   (info)`,
    `3p/3q p99   (links rewritten vs not)        ${ratios.rewriteVsPlainP99.toFixed(3).padStart(5)}   (info)`,
    `4b/4a req/s (authenticate vs bare route)    ${ratios.authVsBareRps.toFixed(3).padStart(5)}   (info)   0.82 on 2026-12-01, before the one call policy`,
    `4b/4a p99   (authenticate vs bare route)    ${ratios.authVsBareP99.toFixed(3).padStart(5)}   (info)`)

  if (stormRuns.length > 0) {
    const expired = stormRuns.filter((r) => r.expired)
    const fresh = stormRuns.filter((r) => !r.expired)
    const calls = expired.map((r) => r.check.refreshCalls)
    // Identical GETs of one session in flight together are merged: the
    // storm reaches the upstream in as few calls as the merging allows, and
    // each one must carry the stored token.
    const allGood = stormRuns.every((r) => r.result.statuses['200'] === stormSize && r.check.upstreamCalls > 0 && r.check.upstreamCallsWithStoredToken === r.check.upstreamCalls)
    lines.push('',
      `5   refresh storm: ${stormSize} concurrent GET /spotify/me on one session, ${storms} storms (median), API on the static upstream, token endpoint on the emulator`,
      `    expired token: token calls ${calls.join(', ')} (target exactly 1: ${check(calls.every((c) => c === 1))}), ` +
        `p50 ${median(expired.map((r) => r.result.p50)).toFixed(1)} ms, p99 ${median(expired.map((r) => r.result.p99)).toFixed(1)} ms, ` +
        `all ${stormSize} in ${median(expired.map((r) => r.result.wall)).toFixed(0)} ms`,
      `    fresh token (control): token calls ${fresh.map((r) => r.check.refreshCalls).join(', ')}, ` +
        `p50 ${median(fresh.map((r) => r.result.p50)).toFixed(1)} ms, p99 ${median(fresh.map((r) => r.result.p99)).toFixed(1)} ms, ` +
        `all ${stormSize} in ${median(fresh.map((r) => r.result.wall)).toFixed(0)} ms`,
      `    upstream calls (identical GETs merged): ${stormRuns.map((r) => r.check.upstreamCalls).join(', ')}`,
      `    every response 200 and every upstream call carried the stored (refreshed) token: ${check(allGood)}`)
  }
  if (memoryResults.length > 0) {
    const store = memoryResults.find((m) => m.variant === 'store') as MemoryResult
    lines.push('',
      `6   memoryStore() at ${sessions} sessions (access ${store.lengths.accessToken} + refresh ${store.lengths.refreshToken} + session id ${store.lengths.sessionId} = ${store.rawBytesPerSession} raw bytes)`)
    const labels: Record<Variant, string> = {
      strings: 'the three strings alone (floor)',
      store: 'memoryStore(), tokens as the plugin makes them',
    }
    for (const m of memoryResults) {
      lines.push(`    ${labels[m.variant].padEnd(48)} ${Math.round(m.bytesPerSession).toString().padStart(5)} B/session  ${m.ratio.toFixed(2)}x raw` +
        (m.variant === 'store' ? `   target ≤ ${MEMORY_TARGET}x: ${check(m.ratio <= MEMORY_TARGET)}` : ''))
    }
  }
  return lines.join('\n')
}

interface Ratios {
  proxyVsPeerRps: number
  /** The median of each round's ratio: the two targets of one round ran within seconds of each other, on the same machine state. */
  proxyVsPeerPaired: number
  /** Server CPU µs per request, the peer's over ours (median over rounds). */
  peerVsProxyCpu: number
  /** 3/2 in short back-to-back pairs: the median ratio, and its quartiles. */
  pairs: { rps: [number, number, number], cpu: [number, number, number] }
  proxyVsPeerP99: number
  proxyVsDirectRps: number
  peerVsDirectRps: number
  rewriteVsPlainRps: number
  rewriteVsPlainP99: number
  authVsBareRps: number
  authVsBareP99: number
}

// ── main ─────────────────────────────────────────────────────────────────────

const started = new Date()
const loadBefore = loadavg()
log('starting the servers (one child process)…')
const server = await startServers()
const { info } = server
const targets: Target[] = [
  { key: '1', name: 'upstream direct (node:http, fixed body)', url: `${info.upstreamUrl}/v1/me` },
  { key: '2', name: '@fastify/http-proxy + fixed bearer', url: `${info.peerUrl}/spotify/me` },
  { key: '3', name: 'fastify-spotify-auth /spotify/* proxy', url: `${info.appUrl}/spotify/me` },
  { key: '3p', name: 'same, paged body, links rewritten', url: `${info.appUrl}/spotify/me/playlists?offset=20&limit=20` },
  { key: '3q', name: 'same, paged body, proxyRewriteLinks: false', url: `${info.plainUrl}/spotify/me/playlists?offset=20&limit=20` },
  { key: '4a', name: 'bare route (plugin registered)', url: `${info.appUrl}/bare` },
  { key: '4b', name: 'same route + spotify.authenticate', url: `${info.appUrl}/authed` }
]
// The same request headers for every target: what a logged-in browser sends.
const headers = { cookie: info.cookie, accept: 'application/json' }

let summaries: TargetSummary[]
let pairResult: PairedResult
let stormRuns: StormRun[] = []
try {
  for (const target of targets) {
    const response = await fetch(target.url, { headers })
    await response.arrayBuffer()
    if (response.status !== 200) throw new Error(`bench: ${target.key} ${target.url} answered ${response.status}`)
  }
  summaries = await measureTargets(server, targets, headers, settings, log)
  pairResult = await measurePairs(server, targets[2] as Target, targets[1] as Target, headers,
    { connections: settings.connections, duration: pairDuration, pairs }, log)
  if (!args['skip-storm']) stormRuns = await runStorms(server)
} finally {
  await server.close()
}

const memoryResults: MemoryResult[] = []
if (!args['skip-memory']) {
  for (const variant of ['strings', 'store'] as const) {
    log(`memory: ${variant} at ${sessions} sessions…`)
    memoryResults.push(await memory(variant))
  }
}

const byKey = (key: string): TargetSummary => summaries.find((t) => t.key === key) as TargetSummary
/** Lower quartile, median, upper quartile. */
function quartiles (values: number[]): [number, number, number] {
  const sorted = [...values].sort((x, y) => x - y)
  return [percentile(sorted, 25), median(sorted), percentile(sorted, 75)]
}

/** Each round's `a` over `b`, by `measure`, then their median. */
function paired (a: TargetSummary, b: TargetSummary, measure: (run: TargetSummary['runs'][number]) => number): number {
  return median(a.runs.map((run, i) => measure(run) / measure(b.runs[i] as TargetSummary['runs'][number])))
}
const cpuPerRequest = (run: TargetSummary['runs'][number]): number => run.serverCpu / run.rps
const ratios: Ratios = {
  proxyVsPeerRps: byKey('3').rps / byKey('2').rps,
  proxyVsPeerPaired: paired(byKey('3'), byKey('2'), (run) => run.rps),
  peerVsProxyCpu: paired(byKey('2'), byKey('3'), cpuPerRequest),
  pairs: { rps: quartiles(pairResult.rps), cpu: quartiles(pairResult.cpu) },
  proxyVsPeerP99: byKey('3').p99 / byKey('2').p99,
  proxyVsDirectRps: byKey('3').rps / byKey('1').rps,
  peerVsDirectRps: byKey('2').rps / byKey('1').rps,
  rewriteVsPlainRps: byKey('3p').rps / byKey('3q').rps,
  rewriteVsPlainP99: byKey('3p').p99 / byKey('3q').p99,
  authVsBareRps: byKey('4b').rps / byKey('4a').rps,
  authVsBareP99: byKey('4b').p99 / byKey('4a').p99
}

const printed = table(summaries, ratios, stormRuns, memoryResults)
process.stdout.write('\n' + printed + '\n')

const out = resolve(args.out)
await mkdir(dirname(out), { recursive: true })
await writeFile(out, JSON.stringify({
  date: started.toISOString(),
  durationSeconds: round((Date.now() - started.getTime()) / 1000, 1),
  machine: { ...machine(), loadavgBefore: loadBefore, loadavgAfter: loadavg() },
  settings: { ...settings, pairs, pairDuration, stormSize, storms, sessions, loadGenerator: 'autocannon (this process), keep-alive, pipelining 1', servers: 'one child process' },
  targets: summaries.map(({ runs, ...summary }) => ({
    ...summary,
    runs: runs.map((r) => ({ ...r, rps: round(r.rps, 1), p50: round(r.p50, 3), p90: round(r.p90, 3), p99: round(r.p99, 3), max: round(r.max, 3) }))
  })),
  ratios,
  storm: stormRuns,
  memory: memoryResults,
  table: printed
}, null, 2) + '\n')
log(`\nwritten to ${out}`)
