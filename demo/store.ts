/**
 * Where the demo keeps sessions: in memory, in Redis when `REDIS_URL` is
 * set, or in PostgreSQL when `DATABASE_URL` is. The only module that knows
 * about Redis and PostgreSQL.
 */
import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import pg from 'pg'
import { memoryStore, pgStore, redisStore, type StoreFactory, type TokenStore } from '../plugin/index.js'
import { DemoConfigError, type DemoConfig } from './config.js'

export interface DemoStore {
  readonly store: TokenStore | StoreFactory
  /** For the start-up line: `in memory`, `in Redis at redis://host:port` or `in PostgreSQL at postgres://host:port/db` (never the password). */
  readonly description: string
  /** Closes what the demo opened for the store (the Redis connection, the PostgreSQL pool). */
  close (): Promise<void>
}

/** Keys of the demo's sessions in a shared Redis. */
export const REDIS_PREFIX = 'fastify-spotify-auth-demo:'

/** The demo's sessions table in PostgreSQL (and `<table>_locks` beside it), created on first use. */
export const PG_TABLE = 'fastify_spotify_auth_demo_sessions'

/**
 * The store for `config.redisUrl`. With Redis, start-up waits for the
 * connection and fails with a one-line {@link DemoConfigError} when there is
 * none; later outages are logged and answered 503 by the plugin, and the
 * client reconnects by itself.
 */
export async function createStore (config: Pick<DemoConfig, 'redisUrl' | 'databaseUrl'>, log: FastifyBaseLogger): Promise<DemoStore> {
  if (config.databaseUrl !== undefined) return await createPgStore(config.databaseUrl, log)
  if (config.redisUrl === undefined) {
    return { store: memoryStore(), description: 'in memory', close: async () => {} }
  }
  const { protocol, host } = new URL(config.redisUrl)
  const where = `${protocol}//${host}`
  const client = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 })
  client.on('error', (err: Error) => { log.warn({ err }, `Redis at ${where}: ${err.message}`) })
  try {
    await client.connect()
  } catch {
    client.disconnect()
    throw new DemoConfigError(`REDIS_URL: no Redis answers at ${where}: start redis-server there, or unset REDIS_URL to keep sessions in memory`)
  }
  return {
    store: redisStore({ client, prefix: REDIS_PREFIX }),
    description: `in Redis at ${where}`,
    async close () { client.disconnect() }
  }
}

/**
 * PostgreSQL: start-up checks the connection and fails with a one-line
 * {@link DemoConfigError} when there is none; later outages are answered 503
 * by the plugin, and the pool opens new connections by itself.
 */
async function createPgStore (databaseUrl: string, log: FastifyBaseLogger): Promise<DemoStore> {
  const { protocol, host, pathname } = new URL(databaseUrl)
  const where = `${protocol}//${host}${pathname}`
  const pool = new pg.Pool({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 })
  // Without a listener, an idle connection that PostgreSQL drops would crash the demo.
  pool.on('error', (err: Error) => { log.warn(`PostgreSQL at ${where}: ${err.message}`) })
  try {
    await pool.query('SELECT 1')
  } catch (err) {
    await pool.end()
    const message = (err as Error).message
    log.warn(`PostgreSQL at ${where}: ${message}`)
    throw new DemoConfigError(typeof (err as { severity?: unknown }).severity === 'string'
      ? `DATABASE_URL: PostgreSQL at ${where} refused the demo (${message}): check the user, password and database in DATABASE_URL`
      : `DATABASE_URL: no PostgreSQL answers at ${where}: start PostgreSQL there, or unset DATABASE_URL to keep sessions in memory`)
  }
  return {
    store: pgStore({ pool, table: PG_TABLE }),
    description: `in PostgreSQL at ${where}`,
    async close () { await pool.end() }
  }
}
