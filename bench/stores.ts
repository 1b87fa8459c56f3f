/**
 * The authenticated route (target 4b of bench/run.ts) on each token store:
 * memory, Redis and PostgreSQL, side by side.
 *
 *   npx tsx bench/stores.ts [--connections 50] [--duration 5] [--rounds 3] [--warmup 2]
 *
 * One server process per store (bench/lib/store-server.ts), autocannon here.
 * Redis and PostgreSQL are the local ones (REDIS_URL, DATABASE_URL to
 * change them); the bench writes under a prefix and a schema of its own,
 * removed at the end.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { TSX_LOADER } from './lib/child.js'
import { load, type LoadResult } from './lib/load.js'
import { median } from './lib/stats.js'

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' }
  }
})
const connections = Number(args.connections)
const duration = Number(args.duration)
const rounds = Number(args.rounds)
const warmup = Number(args.warmup)
const STORES = ['memory', 'redis', 'postgres'] as const

interface Server { kind: string, child: ChildProcess, url: string, cookie: string }

async function startServer (kind: string): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./lib/store-server.ts', import.meta.url)), [kind], {
    execArgv: ['--import', TSX_LOADER],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const [ready] = await Promise.race([
    once(child, 'message') as Promise<[{ url: string, cookie: string }]>,
    once(child, 'exit').then(([code]) => { throw new Error(`bench: the ${kind} server exited (${String(code)})`) })
  ])
  return { kind, child, ...ready }
}

async function run (server: Server, seconds: number): Promise<LoadResult> {
  const result = await load({ url: server.url, headers: { cookie: server.cookie, accept: 'application/json' }, connections, duration: seconds })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`bench: ${server.kind} answered ${result.non2xx} non-2xx and ${result.errors} errors`)
  return result
}

const servers: Server[] = []
try {
  for (const kind of STORES) servers.push(await startServer(kind))
  if (warmup > 0) for (const server of servers) await run(server, warmup)
  const results = new Map<string, LoadResult[]>(STORES.map((kind) => [kind, []]))
  for (let round = 0; round < rounds; round++) {
    // Each round starts one store later, so that drift hits all alike.
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(i + round) % servers.length] as Server
      const result = await run(server, duration)
      results.get(server.kind)?.push(result)
      process.stderr.write(`round ${round + 1}/${rounds} ${server.kind.padEnd(8)} ${Math.round(result.rps)} req/s, p99 ${result.p99.toFixed(2)} ms\n`)
    }
  }
  const memoryRps = median((results.get('memory') as LoadResult[]).map((r) => r.rps))
  const lines = [
    `GET /authed (spotify.authenticate, one session): ${connections} connections, ${duration} s × ${rounds} rounds (median), keep-alive`,
    '',
    'store        req/s   p50 ms   p99 ms   vs memory'
  ]
  for (const kind of STORES) {
    const list = results.get(kind) as LoadResult[]
    const rps = median(list.map((r) => r.rps))
    lines.push(`${kind.padEnd(10)} ${Math.round(rps).toString().padStart(7)}  ${median(list.map((r) => r.p50)).toFixed(2).padStart(7)}  ` +
      `${median(list.map((r) => r.p99)).toFixed(2).padStart(7)}   ${(rps / memoryRps).toFixed(3)}`)
  }
  process.stdout.write(lines.join('\n') + '\n')
} finally {
  for (const server of servers) {
    server.child.send('close')
    await once(server.child, 'exit')
  }
}
