/**
 * Where the demo keeps sessions: in memory, in Redis when `REDIS_URL` is
 * set (a Redis Cluster with `REDIS_CLUSTER_NODES`, the master named by
 * Sentinel with `REDIS_SENTINELS`), or in PostgreSQL when `DATABASE_URL` is.
 * The only module that knows about Redis and PostgreSQL.
 */
import type { FastifyBaseLogger } from 'fastify'
import { Cluster, Redis } from 'ioredis'
import pg from 'pg'
import { memoryStore, pgStore, redisStore, type StoreFactory, type TokenStore } from '../plugin/index.js'
import { DemoConfigError, type DemoConfig, type RedisAddress } from './config.js'

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
export async function createStore (config: Pick<DemoConfig, 'redisUrl' | 'redisClusterNodes' | 'redisSentinel' | 'databaseUrl'>, log: FastifyBaseLogger): Promise<DemoStore> {
  if (config.databaseUrl !== undefined) return await createPgStore(config.databaseUrl, log)
  if (config.redisClusterNodes !== undefined) return await createClusterStore(config.redisClusterNodes, log)
  if (config.redisSentinel !== undefined) return await createSentinelStore(config.redisSentinel, log)
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
  // A Cluster node used as a single server answers MOVED for most keys, and
  // a replica refuses writes: both would fail logins later, refuse them now.
  const info = await client.info('all')
  if (/^cluster_enabled:1\b/m.test(info)) {
    client.disconnect()
    throw new DemoConfigError(`REDIS_URL: ${where} is a Redis Cluster node: set REDIS_CLUSTER_NODES=host:port,host:port,… (some of the cluster's nodes) instead of REDIS_URL`)
  }
  if (/^role:slave\b/m.test(info)) {
    client.disconnect()
    throw new DemoConfigError(`REDIS_URL: ${where} is a replica, which refuses writes: point REDIS_URL at the master, or, behind Sentinel, set REDIS_SENTINELS and REDIS_SENTINEL_NAME instead`)
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

/** `host:port,host:port` for messages and the start-up line. */
function listed (addresses: readonly RedisAddress[]): string {
  return addresses.map(({ host, port }) => `${host}:${port}`).join(',')
}

/**
 * A Redis Cluster, with the client options the README recommends: a failing
 * over cluster answers 503 within a few hundred ms instead of hanging.
 */
async function createClusterStore (nodes: readonly RedisAddress[], log: FastifyBaseLogger): Promise<DemoStore> {
  const where = listed(nodes)
  const client = new Cluster(nodes.map(({ host, port }) => ({ host, port })), {
    lazyConnect: true,
    maxRedirections: 6,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    redisOptions: { connectTimeout: 2000, maxRetriesPerRequest: 1 }
  })
  client.on('error', (err: Error) => { log.warn({ err }, `Redis Cluster at ${where}: ${err.message}`) })
  try {
    await client.connect()
  } catch {
    client.disconnect()
    throw new DemoConfigError(`REDIS_CLUSTER_NODES: no Redis Cluster answers at ${where}: check the nodes, or unset REDIS_CLUSTER_NODES to keep sessions in memory`)
  }
  return {
    store: redisStore({ client, prefix: REDIS_PREFIX }),
    description: `in the Redis Cluster at ${where}`,
    async close () { client.disconnect() }
  }
}

/**
 * The master a group of sentinels names. `failoverDetector` makes the client
 * move to the new master as soon as the sentinels announce the switch, instead
 * of writing to the demoted one (READONLY) until its connection drops.
 */
async function createSentinelStore ({ sentinels, name }: NonNullable<DemoConfig['redisSentinel']>, log: FastifyBaseLogger): Promise<DemoStore> {
  const where = listed(sentinels)
  const client = new Redis({
    sentinels: sentinels.map(({ host, port }) => ({ host, port })),
    name,
    failoverDetector: true,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000
  })
  client.on('error', (err: Error) => { log.warn({ err }, `Redis Sentinel ${name} at ${where}: ${err.message}`) })
  try {
    // The client asks the sentinels again and again while none answers
    // (and so it should later); start-up waits 5 s at most.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      client.connect(),
      new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000) })
    ]).finally(() => clearTimeout(timer))
  } catch {
    client.disconnect()
    throw new DemoConfigError(`REDIS_SENTINELS: no sentinel at ${where} names a reachable master "${name}": check REDIS_SENTINELS and REDIS_SENTINEL_NAME`)
  }
  return {
    store: redisStore({ client, prefix: REDIS_PREFIX }),
    description: `in Redis behind Sentinel "${name}" at ${where}`,
    async close () { client.disconnect() }
  }
}
