import { createClient } from 'redis'
import { REDIS_URL } from './redis.js'

/** A connected node-redis client, destroyed at teardown (its reconnect errors are expected noise in these tests). */
export async function nodeRedisClient (t: { teardown (fn: () => unknown): void }, url = REDIS_URL, options: Record<string, unknown> = {}) {
  // The RESP and keyPrefix options vary by test: one client type for all.
  const client = createClient({ url, ...options as { keyPrefix?: string } })
  client.on('error', () => {})
  t.teardown(() => { if (client.isOpen) client.destroy() })
  await client.connect()
  return client
}
