import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from './ports.js'
import type { Test } from 'tap'

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * A connected client to the test Redis, or `undefined` after a loud skip.
 * Under CI a missing Redis fails the test instead: CI must run these.
 */
export async function redisOrSkip (t: Test): Promise<Redis | undefined> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  try {
    await client.connect()
    await client.ping()
  } catch (err) {
    client.disconnect()
    const message = `Redis is not reachable at ${REDIS_URL} (${(err as Error).message})`
    if (process.env.CI !== undefined) {
      t.fail(`${message}: CI must run the Redis tests`)
    } else {
      const loud = `!!! SKIPPED: ${message}. Start redis-server on 127.0.0.1:6379 to run the Redis store tests.`
      t.comment(loud)
      await t.test(loud, { skip: loud }, () => {})
    }
    return undefined
  }
  t.teardown(() => client.quit())
  return client
}

/** A new client to the same Redis, closed at teardown: one per simulated instance. */
export async function newClient (t: { teardown (fn: () => unknown): void }, url = REDIS_URL, options: Record<string, unknown> = {}): Promise<Redis> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, ...options })
  // Tests stop servers on purpose: the reconnect errors are expected noise.
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  await once(client, 'ready')
  return client
}

/** A prefix no other test uses, and its keys deleted at teardown. */
export function uniquePrefix (t: { teardown (fn: () => unknown): void }, client: Redis): string {
  const prefix = `test-${process.pid}-${Math.random().toString(36).slice(2)}:`
  t.teardown(async () => {
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(...keys)
  })
  return prefix
}

/** A private redis-server, to stop, freeze and restart without touching the shared one. */
export interface PrivateRedis {
  readonly url: string
  /** Its working folder (`--dir`): a temporary one, removed at teardown; it outlives a restart. */
  readonly dir: string
  stop (): Promise<void>
  start (): Promise<void>
  freeze (): void
  thaw (): void
}

/**
 * `args`: more redis-server arguments (`['--replicaof', '127.0.0.1', port]`, `['--cluster-enabled', 'yes']`…).
 * `config`: lines of a config file, written in the server's own folder, for
 * what the command line cannot say (`rename-command EVAL ""`).
 */
export async function privateRedis (t: { teardown (fn: () => unknown): void }, args: string[] = [], config?: string): Promise<PrivateRedis> {
  const port = await freePort()
  // Its own folder: a replica writes the dump it syncs from its master into
  // its working folder, which would otherwise be the repository.
  const dir = mkdtempSync(join(tmpdir(), 'spotify-auth-redis-'))
  const file = join(dir, 'redis.conf')
  if (config !== undefined) writeFileSync(file, config)
  let child: ChildProcess | undefined
  async function start (): Promise<void> {
    // --repl-diskless-sync-delay 0: a replica's full sync starts at once
    // (Redis waits 5 s for more replicas to share it; each setup took 5 s).
    const process = spawn('redis-server', [...(config === undefined ? [] : [file]), '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    child = process
    let output = ''
    process.stdout?.on('data', (chunk) => { output += chunk })
    while (!output.includes('Ready to accept connections')) await once(process.stdout as NodeJS.ReadableStream, 'data')
  }
  async function stop (): Promise<void> {
    const process = child
    if (process === undefined || process.exitCode !== null || process.signalCode !== null) return
    process.kill('SIGKILL')
    await once(process, 'exit')
  }
  await start()
  t.teardown(async () => {
    child?.kill('SIGCONT')
    await stop()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop,
    start,
    freeze: () => { child?.kill('SIGSTOP') },
    thaw: () => { child?.kill('SIGCONT') }
  }
}

/** Waits until the master's one replica is online and has everything. */
export async function inSync (master: Redis): Promise<void> {
  for (;;) {
    const info = await master.info('replication')
    const offset = /master_repl_offset:(\d+)/.exec(info)?.[1]
    if (/connected_slaves:1/.test(info) && new RegExp(`slave0:.*state=online,offset=${offset},`).test(info)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A private master and its replica, in sync; clients to both. */
export async function replicatedRedis (t: { teardown (fn: () => unknown): void }): Promise<{ master: PrivateRedis, replica: PrivateRedis, masterClient: Redis, replicaClient: Redis }> {
  const master = await privateRedis(t)
  const replica = await privateRedis(t, ['--replicaof', '127.0.0.1', new URL(master.url).port])
  const masterClient = await newClient(t, master.url)
  const replicaClient = await newClient(t, replica.url)
  await inSync(masterClient)
  return { master, replica, masterClient, replicaClient }
}

/**
 * The client's next `ready`, however many of its attempts are refused
 * meanwhile (a server restarting): `events.once(client, 'ready')` rejects
 * on the first `error`, and a reconnect attempt that raced the server's
 * start is refused after it (ECONNREFUSED, seen in CI). Take it before the
 * restart, so that a quick `ready` cannot pass unseen.
 */
export function nextReady (client: { once (event: 'ready', listener: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => { client.once('ready', () => { resolve() }) })
}
