/**
 * Where the demo keeps sessions: in memory, or in Redis when `REDIS_URL` is
 * set. The only module that knows about Redis.
 */
import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import { memoryStore, redisStore, type StoreFactory, type TokenStore } from '../plugin/index.js'
import { DemoConfigError, type DemoConfig } from './config.js'

export interface DemoStore {
  readonly store: TokenStore | StoreFactory
  /** For the start-up line: `in memory`, or `in Redis at redis://host:port` (never the password). */
  readonly description: string
  /** Closes what the demo opened for the store (the Redis connection). */
  close (): Promise<void>
}

/** Keys of the demo's sessions in a shared Redis. */
export const REDIS_PREFIX = 'fastify-spotify-auth-demo:'

/**
 * The store for `config.redisUrl`. With Redis, start-up waits for the
 * connection and fails with a one-line {@link DemoConfigError} when there is
 * none; later outages are logged and answered 503 by the plugin, and the
 * client reconnects by itself.
 */
export async function createStore (config: Pick<DemoConfig, 'redisUrl'>, log: FastifyBaseLogger): Promise<DemoStore> {
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
