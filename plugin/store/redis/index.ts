import { sealedRecords } from '../kit/records.js'
import { within } from '../kit/within.js'
import { storeKind } from '../../diagnostics/store.js'
import type { StoreContext, StoreFactory, TokenStore } from '../types.js'
import { durableStore } from './durability.js'
import { RedisEvents } from './events.js'
import { commandGuard } from './guard.js'
import { appName, eventsChannel, rateLimitKey, redisKeys } from './keys.js'
import { redisSettings, type RedisSettings, type RedisStoreOptions } from './options.js'
import { checkScripting } from './scripting.js'
import { redisTokenStore } from './store.js'

export type { RedisDurabilityOptions } from './durability.js'
export type { RedisClient, RedisStoreOptions } from './options.js'

/**
 * A token store in Redis, shared by every instance of an app. Records are
 * encrypted (AES-256-GCM) and named by an HMAC of the session id, with keys
 * derived from the plugin's `secret`; writes are compare-and-set; `lock`
 * gives one refresh per session across the cluster. Works on a single
 * server, behind Sentinel and on Redis Cluster (a session's keys share one
 * hash tag: ./keys.ts).
 *
 * Returns a store factory: pass it as the plugin's `store`, which builds it
 * with the plugin's secret at register time (and fails `register` when Redis
 * cannot be reached, or cannot run Lua scripts: `FST_SPOTIFY_INVALID_OPTION`
 * naming the fix). On its own: `await redisStore({ client })({ secrets, clientId })`.
 * Throws `FST_SPOTIFY_INVALID_OPTION` at once for a bad option.
 */
export function redisStore (options: RedisStoreOptions): StoreFactory {
  const settings = redisSettings(options)
  return async (context: StoreContext) => {
    const { connection, commandTimeout } = settings
    if (connection.status !== 'ready') {
      // Start-up waits for a connecting client (a queued PING), but not forever.
      try {
        await within('Redis', commandTimeout, () => connection.ping())
      } catch (cause) {
        throw new Error(`fastify-spotify-auth: the Redis store cannot reach Redis (${(cause as Error).message})`, { cause })
      }
    }
    await checkScripting(connection, commandTimeout)
    return storeKind('redis', await buildStore(settings, context))
  }
}

/** The store and the capabilities its settings ask for, around it. */
async function buildStore (settings: RedisSettings, context: StoreContext): Promise<TokenStore> {
  const { connection, prefix, ttl, commandTimeout, durability, pubsub, failFastFor } = settings
  const records = sealedRecords(context.secrets)
  const keys = redisKeys(prefix, records)
  const guard = commandGuard(connection, { commandTimeout, failFastFor })
  let store = redisTokenStore({ connection, keys, records, guard, ttl, commandTimeout })
  if (durability !== undefined) {
    store = durableStore(store, { connection, guard, keyOf: (sessionId) => keys.records(sessionId)[0] as string, options: durability, commandTimeout })
  }
  if (!pubsub) return store
  let events: RedisEvents | undefined
  const app = appName(context.clientId)
  try {
    events = await RedisEvents.open({
      connection,
      // The events' commands are bounded but never refused: a window read
      // at a reconnection must not be lost to the store's fail-fast window.
      guard: commandGuard(connection, { commandTimeout, failFastFor: 0 }),
      channel: eventsChannel(connection.keyPrefix, prefix),
      app,
      rateLimitKey: rateLimitKey(prefix, app),
      nameOf: (sessionId) => records.names(sessionId)[0] as string
    })
  } catch (cause) {
    throw new Error(`fastify-spotify-auth: the Redis store cannot subscribe (${(cause as Error).message})`, { cause })
  }
  return events === undefined ? store : events.around(store)
}
