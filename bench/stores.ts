/**
 * The authenticated route (target 4b of bench/run.ts) on each token store:
 * memory, Redis and PostgreSQL, side by side, and beside them the peer:
 * `@fastify/session` on Redis doing the same per-request lookup. Then the
 * cross-instance refresh storm: 300 concurrent requests on one session
 * with an expired token, on one instance and spread over three instances
 * sharing Redis.
 *
 *   npx tsx bench/stores.ts [--connections 50] [--duration 5] [--rounds 3] [--warmup 2]
 *                           [--stores memory,redis,postgres,@fastify/session+redis]
 *                           [--storm 300] [--storms 5] [--storm-no-pubsub] [--skip-stores] [--skip-storm]
 *
 * One server process per store (bench/lib/store-server.ts, the peer
 * bench/lib/session-server.ts) and per storm instance
 * (bench/lib/storm-instance.ts), autocannon and the emulator of the storm
 * here. Redis and PostgreSQL are the local ones (REDIS_URL, DATABASE_URL to
 * change them); the bench writes under prefixes and a schema of its own,
 * removed at the end.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { createSpotifyEmulator, type SpotifyEmulator } from '../plugin/emulator/index.js'
import { TSX_LOADER } from './lib/child.js'
import { load, stormOver, type LoadResult } from './lib/load.js'
import { median } from './lib/stats.js'

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    stores: { type: 'string' },
    storm: { type: 'string', default: '300' },
    storms: { type: 'string', default: '5' },
    'storm-no-pubsub': { type: 'boolean', default: false },
    'skip-stores': { type: 'boolean', default: false },
    'skip-storm': { type: 'boolean', default: false }
  }
})
const connections = Number(args.connections)
const duration = Number(args.duration)
const rounds = Number(args.rounds)
const warmup = Number(args.warmup)
const stormSize = Number(args.storm)
const storms = Number(args.storms)
/** `@fastify/session` on Redis: the peer of our Redis store. */
const PEER = '@fastify/session+redis'
const ALL_STORES = ['memory', 'redis', 'postgres', PEER]
const STORES = args.stores === undefined ? ALL_STORES : args.stores.split(',')
for (const kind of STORES) if (!ALL_STORES.includes(kind)) throw new Error(`bench: --stores takes ${ALL_STORES.join(', ')}`)

interface Server { kind: string, child: ChildProcess, url: string, cookie: string }

/** Forks `script` with `argv` and resolves what it reports once ready. */
async function started<T> (script: string, argv: string[], what: string): Promise<{ child: ChildProcess, ready: T }> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), argv, {
    execArgv: ['--import', TSX_LOADER],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const [ready] = await Promise.race([
    once(child, 'message') as Promise<[T]>,
    once(child, 'exit').then(([code]) => { throw new Error(`bench: the ${what} server exited (${String(code)})`) })
  ])
  return { child, ready }
}

async function startServer (kind: string): Promise<Server> {
  const { child, ready } = kind === PEER
    ? await started<{ url: string, cookie: string }>('./lib/session-server.ts', [], kind)
    : await started<{ url: string, cookie: string }>('./lib/store-server.ts', [kind], kind)
  return { kind, child, ...ready }
}

async function stop (child: ChildProcess): Promise<void> {
  child.send('close')
  await once(child, 'exit')
}

async function run (server: Server, seconds: number): Promise<LoadResult> {
  const result = await load({ url: server.url, headers: { cookie: server.cookie, accept: 'application/json' }, connections, duration: seconds })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`bench: ${server.kind} answered ${result.non2xx} non-2xx and ${result.errors} errors`)
  return result
}

const log = (line: string): void => { process.stderr.write(line + '\n') }
const output: string[] = []

async function storesTable (): Promise<void> {
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
        log(`round ${round + 1}/${rounds} ${server.kind.padEnd(8)} ${Math.round(result.rps)} req/s, p99 ${result.p99.toFixed(2)} ms`)
      }
    }
    const memoryRps = median((results.get('memory') ?? []).map((r) => r.rps))
    const lines = [
      `GET /authed (spotify.authenticate, one session): ${connections} connections, ${duration} s × ${rounds} rounds (median), keep-alive`,
      '',
      'store                       req/s   p50 ms   p99 ms   vs memory'
    ]
    for (const kind of STORES) {
      const list = results.get(kind) as LoadResult[]
      const rps = median(list.map((r) => r.rps))
      lines.push(`${kind.padEnd(24)} ${Math.round(rps).toString().padStart(7)}  ${median(list.map((r) => r.p50)).toFixed(2).padStart(7)}  ` +
        `${median(list.map((r) => r.p99)).toFixed(2).padStart(7)}   ${Number.isNaN(memoryRps) ? '–' : (rps / memoryRps).toFixed(3)}`)
    }
    if (results.has('redis') && results.has(PEER)) {
      const ours = median((results.get('redis') as LoadResult[]).map((r) => r.rps))
      const peer = median((results.get(PEER) as LoadResult[]).map((r) => r.rps))
      lines.push('', `redis vs ${PEER} req/s: ${(ours / peer).toFixed(3)} (target ≥ 1.0: ${ours >= peer ? 'ok' : 'MISSED'})`)
    }
    output.push(lines.join('\n'))
  } finally {
    for (const server of servers) await stop(server.child)
  }
}

// ── the cross-instance storm ─────────────────────────────────────────────────

/** Shorter than the plugin's refreshMargin (60 s): a session logged in with it counts as expired at once. */
const EXPIRED_TTL = 30

/** A real login on `base` (the emulator's programmatic "Agree"), with an access token that counts as expired. */
async function expiredSession (emulator: SpotifyEmulator, base: string): Promise<string> {
  emulator.control.setAccessTokenTtl(EXPIRED_TTL)
  try {
    const start = await fetch(`${base}/login`, { redirect: 'manual' })
    const flow = start.headers.getSetCookie().map((c) => c.slice(0, c.indexOf(';'))).join('; ')
    const back = new URL(emulator.control.authorize(new URL(start.headers.get('location') as string).searchParams))
    const callback = await fetch(`${base}${back.pathname}${back.search}`, { redirect: 'manual', headers: { cookie: flow } })
    const session = callback.headers.getSetCookie().find((c) => c.startsWith('spotify_session='))
    if (session === undefined) throw new Error(`bench: storm login failed (${callback.status})`)
    return session.slice(0, session.indexOf(';'))
  } finally {
    emulator.control.setAccessTokenTtl(3600)
  }
}

async function crossInstanceStorm (): Promise<void> {
  const emulator = await createSpotifyEmulator({
    autoApprove: true,
    clients: [{ clientId: 'bench-client-id', clientSecret: 'bench-client-secret', redirectUris: ['http://127.0.0.1:5543/callback'], name: 'Bench' }]
  })
  const prefix = `spotify-auth-bench-storm-${Math.random().toString(36).slice(2)}:`
  const children: ChildProcess[] = []
  try {
    const urls: string[] = []
    for (let i = 0; i < 3; i++) {
      const { child, ready } = await started<{ url: string }>('./lib/storm-instance.ts',
        [emulator.url, prefix, ...(args['storm-no-pubsub'] ? ['no-pubsub'] : [])], 'storm instance')
      children.push(child)
      urls.push(ready.url)
    }
    const targets = urls.map((url) => ({ warmUrl: `${url}/bare`, url: `${url}/authed` }))
    const p99 = { one: [] as number[], three: [] as number[] }
    const calls = { one: [] as number[], three: [] as number[] }
    let allGood = true
    for (let i = 0; i < storms; i++) {
      for (const spread of ['one', 'three'] as const) {
        const cookie = await expiredSession(emulator, urls[0] as string)
        emulator.control.resetCounters()
        const result = await stormOver(spread === 'one' ? targets.slice(0, 1) : targets, { cookie, accept: 'application/json' }, stormSize)
        p99[spread].push(result.p99)
        calls[spread].push(emulator.control.counters.refresh_token)
        allGood &&= result.statuses['200'] === stormSize
        log(`storm ${i + 1}/${storms} on ${spread === 'one' ? 'one instance   ' : 'three instances'}: ${emulator.control.counters.refresh_token} token call(s), ` +
          `p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, statuses ${JSON.stringify(result.statuses)}`)
      }
    }
    const [one, three] = [median(p99.one), median(p99.three)]
    output.push([
      `cross-instance storm: ${stormSize} concurrent GET /authed on one session with an expired token, Redis store` +
        `${args['storm-no-pubsub'] ? ' without pub/sub (waiters poll)' : ''}, ${storms} storms (median)`,
      `  one instance:                   p99 ${one.toFixed(1)} ms, token calls ${calls.one.join(', ')}`,
      `  three instances (round-robin):  p99 ${three.toFixed(1)} ms, token calls ${calls.three.join(', ')}`,
      `  difference ${(three - one).toFixed(1)} ms (target ≤ 10 ms: ${three - one <= 10 ? 'ok' : 'MISSED'}); every response 200 and one token call per storm: ` +
        `${allGood && [...calls.one, ...calls.three].every((c) => c === 1) ? 'ok' : 'MISSED'}`
    ].join('\n'))
  } finally {
    for (const child of children) await stop(child)
    await emulator.close()
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
  }
}

if (!args['skip-stores']) await storesTable()
if (!args['skip-storm']) await crossInstanceStorm()
process.stdout.write(output.join('\n\n') + '\n')
