/**
 * The server process of bench/stores.ts: the emulator and one app with
 * fastify-spotify-auth on the store named by argv[2] (`memory`, `redis` or
 * `postgres`), with a logged-in session. Reports `{ url, cookie }` over IPC
 * once ready and cleans its keys or schema up on `close`. Run by
 * bench/stores.ts, never directly.
 */
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import pg from 'pg'
import spotifyAuth, { memoryStore, pgStore, redisStore, type StoreFactory, type TokenStore } from '../../plugin/index.js'
import { createSpotifyEmulator } from '../../plugin/emulator/index.js'

const CLIENT_ID = 'bench-client-id'
const CLIENT_SECRET = 'bench-client-secret'
const REDIRECT_URI = 'http://127.0.0.1:5543/callback'
const SECRET = 'bench-session-secret-of-at-least-32-characters'

const kind = process.argv[2]
const tag = randomBytes(4).toString('hex')
let store: TokenStore | StoreFactory
let cleanUp = async (): Promise<void> => {}

if (kind === 'redis') {
  const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
  const prefix = `spotify-auth-bench-${tag}:`
  store = redisStore({ client, prefix })
  cleanUp = async () => {
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(...keys)
    client.disconnect()
  }
} else if (kind === 'postgres') {
  // A pool as large as the app would give it; a schema of the bench's own, dropped at the end.
  const schema = `spotify_auth_bench_${tag}`
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 10, connectionTimeoutMillis: 2000 })
  pool.on('error', () => {})
  await pool.query(`CREATE SCHEMA ${schema}`)
  store = pgStore({ pool, table: `${schema}.sessions` })
  cleanUp = async () => {
    await pool.query(`DROP SCHEMA ${schema} CASCADE`)
    await pool.end()
  }
} else if (kind === 'memory') {
  store = memoryStore()
} else {
  throw new Error(`bench: unknown store ${String(kind)}`)
}

const emulator = await createSpotifyEmulator({
  autoApprove: true,
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI], name: 'Bench' }]
})
const app = Fastify({ logger: false })
await app.register(spotifyAuth, {
  clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI, secret: SECRET, accountsUrl: emulator.url, apiUrl: emulator.url, store
})
app.get('/authed', { onRequest: app.spotify.authenticate }, async () => ({ ok: true }))
await app.listen({ host: '127.0.0.1', port: 0, backlog: 2048 })

const start = await app.inject({ url: '/login' })
const back = new URL(emulator.control.authorize(new URL(start.headers.location as string).searchParams))
const callback = await app.inject({ url: back.pathname + back.search, headers: { cookie: start.cookies.map((c) => `${c.name}=${c.value}`).join('; ') } })
const session = [callback.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('spotify_session='))
if (session === undefined) throw new Error(`bench: login failed (${callback.statusCode})`)

async function close (): Promise<void> {
  await app.close()
  await emulator.close()
  await cleanUp()
  process.exit(0)
}

process.on('message', (message: string) => {
  if (message === 'close') close().catch((err: unknown) => { console.error(err); process.exit(1) })
})
process.send?.({ url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}/authed`, cookie: session.slice(0, session.indexOf(';')) })
