/**
 * The peer of bench/stores.ts: `@fastify/session` on Redis, doing what an
 * app would do by hand for the same route: read the signed session cookie,
 * load the session from Redis (GET, JSON.parse), check the user is there.
 * The session holds the same data as ours (a Spotify-sized token), in
 * plain JSON (ours is encrypted). Configured at its leanest: no rolling
 * cookie, no saving of unchanged sessions. Reports `{ url, cookie }` over
 * IPC; cleans its keys up on `close`. Run by bench/stores.ts, never directly.
 */
import { randomBytes } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify, { type Session } from 'fastify'
import { Redis } from 'ioredis'
import { BENCH_APP } from './store-server-config.js'

type Callback = (err?: unknown) => void
type SessionCallback = (err: unknown, result?: Session | null) => void

/** The smallest store over ioredis: what connect-redis does (JSON under a prefix, with the cookie's lifetime). */
class RedisSessionStore {
  readonly #client: Redis
  readonly #prefix: string
  constructor (client: Redis, prefix: string) {
    this.#client = client
    this.#prefix = prefix
  }

  set (sessionId: string, session: unknown, callback: Callback): void {
    this.#client.set(this.#prefix + sessionId, JSON.stringify(session), 'PX', 30 * 24 * 3600_000).then(() => callback(), callback)
  }

  get (sessionId: string, callback: SessionCallback): void {
    this.#client.get(this.#prefix + sessionId).then((raw) => callback(null, raw === null ? null : JSON.parse(raw) as Session), callback)
  }

  destroy (sessionId: string, callback: Callback): void {
    this.#client.del(this.#prefix + sessionId).then(() => callback(), callback)
  }
}

declare module 'fastify' {
  interface Session {
    spotify?: Record<string, unknown>
  }
}

const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
const prefix = `spotify-auth-bench-session-${randomBytes(4).toString('hex')}:`
const app = Fastify({ logger: false })
await app.register(fastifyCookie)
await app.register(fastifySession, {
  secret: BENCH_APP.secret,
  cookieName: 'sessionId',
  cookie: { secure: false, maxAge: 30 * 24 * 3600_000 },
  store: new RedisSessionStore(client, prefix),
  saveUninitialized: false,
  rolling: false
})
app.get('/login', async (request) => {
  request.session.spotify = {
    userId: 'alice',
    accessToken: 'BQ' + randomBytes(156).toString('base64url'),
    refreshToken: 'AQ' + randomBytes(96).toString('base64url'),
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
    scope: ['user-read-private', 'user-read-email', 'playlist-read-private', 'playlist-read-collaborative'],
    obtainedAt: Math.floor(Date.now() / 1000),
    refreshes: 0
  }
  return { ok: true }
})
app.get('/authed', async (request, reply) => {
  if (request.session.spotify === undefined) return await reply.code(401).send({ error: 'no session' })
  return { ok: true }
})
await app.listen({ host: '127.0.0.1', port: 0, backlog: 2048 })
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
const login = await fetch(`${base}/login`)
const cookie = login.headers.getSetCookie().find((c) => c.startsWith('sessionId='))
if (cookie === undefined) throw new Error('bench: @fastify/session set no cookie')

process.on('message', (message: string) => {
  if (message !== 'close') return
  app.close()
    .then(async () => {
      const keys = await client.keys(`${prefix}*`)
      if (keys.length > 0) await client.del(...keys)
      await client.quit()
    })
    .then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1) })
})
process.send?.({ url: `${base}/authed`, cookie: cookie.slice(0, cookie.indexOf(';')) })
