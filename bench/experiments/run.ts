/**
 * THROWAWAY: our proxy (3) and @fastify/http-proxy (2) side by side with the
 * got-free forwarders of ./forwarders.ts, alternated in rounds like bench/run.ts.
 *
 *   npx tsx bench/experiments/run.ts [--duration 5] [--rounds 3] [--connections 50]
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startServers } from '../lib/child.js'
import { machine } from '../lib/machine.js'
import { measureTargets, type Target, type TargetSummary } from '../lib/rounds.js'

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' }
  }
})
const settings = { duration: Number(args.duration), rounds: Number(args.rounds), connections: Number(args.connections), warmup: 2, quietWait: 5 }
if (!(settings.duration > 0 && settings.duration <= 30 && settings.rounds >= 1 && settings.rounds <= 5 && settings.connections <= 500)) {
  throw new Error('bench: bad settings')
}

const server = await startServers({ experiments: true })
const { info } = server
const targets: Target[] = [
  { key: '2', name: '@fastify/http-proxy + fixed bearer', url: `${info.peerUrl}/spotify/me` },
  { key: '3', name: 'fastify-spotify-auth proxy (got)', url: `${info.appUrl}/spotify/me` },
  { key: 'xu', name: 'experiment: undici Pool, buffered', url: `${info.appUrl}${info.experiments.undici}` },
  { key: 'xs', name: 'experiment: undici Pool, streamed', url: `${info.appUrl}${info.experiments['undici-stream']}` },
  { key: 'xh', name: 'experiment: node:http keep-alive, buffered', url: `${info.appUrl}${info.experiments.http}` }
]
const headers = { cookie: info.cookie, accept: 'application/json' }
let summaries: TargetSummary[]
try {
  for (const target of targets) {
    const response = await fetch(target.url, { headers })
    const body = await response.text()
    if (response.status !== 200 || !body.includes('"display_name"')) throw new Error(`bench: ${target.key} answered ${response.status}`)
  }
  summaries = await measureTargets(server, targets, headers, settings, (line) => { process.stderr.write(line + '\n') })
} finally {
  await server.close()
}

const peer = summaries[0] as TargetSummary
const lines = [`experiments: ${settings.connections} connections, ${settings.duration} s × ${settings.rounds} rounds (median)`, '']
for (const t of summaries) {
  lines.push(`${t.key.padEnd(3)} ${t.name.padEnd(44)} ${Math.round(t.rps).toString().padStart(6)} req/s  ` +
    `p50 ${t.p50.toFixed(2).padStart(6)} ms  p99 ${t.p99.toFixed(2).padStart(6)} ms  ` +
    `×${(t.rps / peer.rps).toFixed(2)} of 2 (p99 ×${(t.p99 / peer.p99).toFixed(2)})  srv ${Math.round(t.serverCpu)}%`)
}
process.stdout.write(lines.join('\n') + '\n')
const out = fileURLToPath(new URL('../results/experiments.json', import.meta.url))
await mkdir(new URL('../results/', import.meta.url), { recursive: true })
await writeFile(out, JSON.stringify({ date: new Date().toISOString(), machine: machine(), settings, targets: summaries, table: lines.join('\n') }, null, 2) + '\n')
