/**
 * What the Redis store's `durability` option costs: the latency of a
 * login's write and of a whole refresh (token call included), off and on,
 * on a private master with one replica; then on with the replica gone (a
 * promoted master that has none yet), where a refresh ends in a 503.
 *
 *   npx tsx bench/durability.ts [--samples 300]
 *
 * Starts its own redis-server processes on free ports (never the shared
 * Redis), and the Spotify emulator.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import spotifyAuth, { redisStore, type RedisDurabilityOptions, type SpotifyToken } from '../plugin/index.js'
import { createSpotifyEmulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI } from '../plugin/emulator/index.js'

const { values: args } = parseArgs({ options: { samples: { type: 'string', default: '300' } } })
const samples = Number(args.samples)

async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  return port
}

// The servers' working folder: the replica writes the dump it syncs there.
const dir = mkdtempSync(join(tmpdir(), 'spotify-auth-bench-redis-'))

async function redisServer (extra: string[] = []): Promise<{ port: number, child: ChildProcess }> {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout?.on('data', (chunk) => { output += chunk })
  while (!output.includes('Ready to accept connections')) await once(child.stdout as NodeJS.ReadableStream, 'data')
  return { port, child }
}

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
}

const master = await redisServer()
const replica = await redisServer(['--replicaof', '127.0.0.1', String(master.port)])
const client = new Redis(master.port, { maxRetriesPerRequest: 1 })
client.on('error', () => {})
while (!/slave0:.*state=online/.test(await client.info('replication'))) await new Promise((resolve) => setTimeout(resolve, 50))
const emulator = await createSpotifyEmulator({ autoApprove: true, rotateRefreshTokens: true })

async function measure (label: string, durability: RedisDurabilityOptions | undefined): Promise<void> {
  const app = Fastify()
  await app.register(spotifyAuth, {
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
    redirectUri: DEFAULT_REDIRECT_URI,
    secret: 'a-bench-secret-of-at-least-32-characters',
    accountsUrl: emulator.url,
    apiUrl: emulator.url,
    store: redisStore({ client, prefix: `bench-durability-${label}:`, ...(durability === undefined ? {} : { durability }) })
  })
  await app.ready()
  const store = app.spotify.store
  const issued = emulator.control.issueTokens('alice', ['user-read-private'])
  const now = Math.floor(Date.now() / 1000)
  const token: SpotifyToken = {
    userId: 'alice',
    accessToken: issued.access_token,
    refreshToken: issued.refresh_token,
    expiresAt: now + 3600,
    scope: ['user-read-private'],
    obtainedAt: now,
    authorizedAt: now,
    refreshTokenExpiresAt: now + 86_400,
    refreshes: 0
  }
  const logins: number[] = []
  const refreshes: number[] = []
  let failed = 0
  let loginsFailed = 0
  for (let i = 0; i < samples && loginsFailed < 3; i++) {
    const id = `session-${i}`
    let started = performance.now()
    // Without a replica the write lands on the master but is refused as not durable.
    await store.set(id, token).catch(() => { loginsFailed++ })
    logins.push(performance.now() - started)
    if (i > 0) continue
    for (let j = 0; j < samples; j++) {
      started = performance.now()
      try {
        await app.spotify.session(id).refresh()
        refreshes.push(performance.now() - started)
      } catch {
        failed++
        refreshes.push(performance.now() - started)
        if (failed >= 3) break
      }
    }
  }
  const ms = (values: number[], p: number) => percentile(values, p).toFixed(2).padStart(7)
  const failures = loginsFailed + failed > 0 ? `   failed: ${loginsFailed} logins, ${failed} refreshes (503)` : ''
  console.log(`${label.padEnd(22)} login write p50 ${ms(logins, 0.5)} p99 ${ms(logins, 0.99)}   refresh p50 ${ms(refreshes, 0.5)} p99 ${ms(refreshes, 0.99)}${failures}`)
  await app.close()
}

try {
  await measure('off', undefined)
  await measure('on (replicas 1)', { replicas: 1, timeout: 500 })
  await measure('off again', undefined)
  replica.child.kill('SIGKILL')
  await once(replica.child, 'exit')
  while (!/connected_slaves:0/.test(await client.info('replication'))) await new Promise((resolve) => setTimeout(resolve, 50))
  await measure('on, no replica left', { replicas: 1, timeout: 500 })
} finally {
  client.disconnect()
  await emulator.close()
  for (const server of [master, replica]) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL')
  await Promise.all([master, replica].map((server) => server.child.exitCode === null && server.child.signalCode === null ? once(server.child, 'exit') : undefined))
  rmSync(dir, { recursive: true, force: true })
}
