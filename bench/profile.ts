/**
 * CPU profile of the server process under load on one target (default: 3, our
 * proxy), with `node --cpu-prof`, summarised over the load window only.
 *
 *   npx tsx bench/profile.ts [--target 3] [--duration 10] [--connections 50] [--interval 250]
 *   npx tsx bench/profile.ts --analyse <file.cpuprofile> [--callers writev]
 *
 * Targets: 1, 2, 3, 4a, 4b. Writes bench/results/profiles/<target>-<date>.cpuprofile
 * and bench/results/profile-<target>.json.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startServers } from './lib/child.js'
import { callersOf, categorise, formatEntries, mainThreadProfile, summarise, type CpuProfile, type Entry, type ProfileSummary } from './lib/cpuprofile.js'
import { HOT_PATH_RULES } from './lib/hot-path.js'
import { load } from './lib/load.js'
import type { ServerInfo } from './lib/protocol.js'

const { values: args } = parseArgs({
  options: {
    target: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    interval: { type: 'string', default: '250' },
    top: { type: 'string', default: '30' },
    analyse: { type: 'string' },
    callers: { type: 'string', multiple: true }
  }
})
const limit = Number(args.top)
const results = fileURLToPath(new URL('./results/', import.meta.url))

/** Main-thread CPU µs per request: busy samples × interval / requests served in the window. */
function perRequest (summary: ProfileSummary, requests: number | undefined): number | undefined {
  if (requests === undefined || requests === 0) return undefined
  return summary.samples * (1 - summary.idlePercent / 100) * summary.intervalUs / requests
}

function print (label: string, summary: ProfileSummary, categories: Entry[], requests?: number): string {
  const us = perRequest(summary, requests)
  const withUs = us === undefined ? categories : categories.map((c) => ({ ...c, name: `${(c.percent / 100 * us).toFixed(1).padStart(5)} µs/req  ${c.name}` }))
  const text = [
    `${label}: ${summary.samples} samples every ~${Math.round(summary.intervalUs)} µs, ${summary.idlePercent.toFixed(1)}% idle; shares below are of the busy samples`,
    ...(us === undefined ? [] : [`main-thread CPU per request: ${us.toFixed(1)} µs`]),
    '',
    formatEntries('hot path by category (each sample counted once, by its stack)', withUs),
    '',
    formatEntries('self time by package', summary.selfByPackage.slice(0, 15)),
    '',
    formatEntries('self time by file', summary.selfByFile.slice(0, 20)),
    '',
    formatEntries(`self time by function (top ${limit})`, summary.selfByFunction),
    '',
    formatEntries(`inclusive time by function (top ${limit}; synchronous stacks only)`, summary.inclusiveByFunction)
  ].join('\n')
  process.stdout.write(text + '\n')
  return text
}

function urlOf (info: ServerInfo, target: string): string {
  switch (target) {
    case '1': return `${info.upstreamUrl}/v1/me`
    case '2': return `${info.peerUrl}/spotify/me`
    case '3': return `${info.appUrl}/spotify/me`
    case '4a': return `${info.appUrl}/bare`
    case '4b': return `${info.appUrl}/authed`
  }
  throw new Error(`bench: unknown target ${target}`)
}

if (args.analyse !== undefined) {
  const profile = JSON.parse(await readFile(args.analyse, 'utf8')) as CpuProfile
  print(args.analyse, summarise(profile, limit), categorise(profile, HOT_PATH_RULES))
  for (const name of args.callers ?? []) {
    process.stdout.write('\n' + formatEntries(`callers of ${name} (self samples, % of busy)`, callersOf(profile, name, 10)) + '\n')
  }
} else {
  const target = args.target
  const duration = Number(args.duration)
  const connections = Number(args.connections)
  if (!(duration > 0 && duration <= 60 && connections > 0 && connections <= 1000)) throw new Error('bench: bad --duration or --connections')
  // One directory per run: with tsx's loader hooks, node writes a profile for
  // the hooks thread too; the main thread's is the one with the plugin in it.
  const dir = join(results, 'profiles', `${target}-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  await mkdir(dir, { recursive: true })
  const server = await startServers({
    nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', String(Number(args.interval))]
  })
  const url = urlOf(server.info, target)
  const headers = { cookie: server.info.cookie, accept: 'application/json' }
  let from: number
  let to: number
  let result
  try {
    process.stderr.write(`warm-up ${url} (3 s)…\n`)
    await load({ url, headers, connections, duration: 3, distinct: true })
    from = await server.call<number>({ command: 'mark' })
    process.stderr.write(`profiling ${url} (${duration} s)…\n`)
    result = await load({ url, headers, connections, duration, distinct: true })
    to = await server.call<number>({ command: 'mark' })
  } finally {
    await server.close()
  }
  const { file, profile } = await mainThreadProfile(dir, '/bench/lib/servers.ts')
  if (from < profile.startTime || to > profile.endTime) throw new Error('bench: the load window is outside the profile')
  const summary = summarise(profile, limit, from, to)
  const categories = categorise(profile, HOT_PATH_RULES, from, to)
  process.stdout.write(`target ${target} under profiling: ${Math.round(result.rps)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms\n\n`)
  const text = print(file, summary, categories, result.requests)
  await writeFile(join(results, `profile-${target}.json`), JSON.stringify({
    date: new Date().toISOString(), target, url, connections, duration, profile: file, load: result, cpuPerRequestUs: perRequest(summary, result.requests), categories, summary, text
  }, null, 2) + '\n')
}
