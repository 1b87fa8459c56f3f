import { isWrittenToken } from '../../token-versions.js'
import type { TokenStore } from '../types.js'
import type { RedisConnection } from './connection.js'
import type { Guard } from './guard.js'
import { TOUCH } from './scripts.js'

/** `redisStore`'s `durability` option: how sure a write must be before it counts. */
export interface RedisDurabilityOptions {
  /**
   * How many replicas must acknowledge a session's write (login, refresh)
   * before it counts as stored (Redis `WAIT`). Fewer in time: the write
   * fails (503), and a refreshed token stays in the process's memory until a
   * write is acknowledged.
   */
  replicas: number
  /**
   * Longest wait for the acknowledgements, in ms. Default 1500: a replica
   * acknowledges on the master's request, and at the latest once a second
   * on its own (Redis 7.0 was seen to leave a `WAIT` to that second), so a
   * shorter wait can refuse a write that a healthy replica has.
   */
  timeout?: number
  /**
   * After the client lost a connection or saw the cluster change (or a
   * write went unacknowledged), how long
   * Spotify's `invalid_grant` does not delete a session (the request gets a
   * 503 instead), in ms: another process may still hold the rotated token
   * that the failover lost, and be about to write it back. Default 10000.
   */
  settle?: number
}

/** What the durability of a store is made of. */
export interface DurabilityParts {
  readonly connection: RedisConnection
  /** The store's guard: the `WAIT` is a command like the others. */
  readonly guard: Guard
  /** Names a session's record (the key its writes touch). */
  readonly keyOf: (sessionId: string) => string
  readonly options: Required<RedisDurabilityOptions>
  /** Longest wait for one command, in ms: added to `timeout` to bound a `WAIT`. */
  readonly commandTimeout: number
}

/**
 * Makes a Redis store's session writes durable: after a login's or a
 * refresh's write, `WAIT` on the connection that took it (on a Cluster, the
 * node owning the record's slot) until `replicas` replicas have it; fewer
 * acknowledgements make the write fail, so that the plugin keeps the
 * rotated token in memory and writes it again (an update that finds its own
 * token already stored is confirmed again, not refused). It also says when
 * the store is not settled (`settled`): for `settle` ms after any
 * reconnect, cluster change or unacknowledged write.
 */
export function durableStore (store: TokenStore, { connection, guard, keyOf, options, commandTimeout }: DurabilityParts): TokenStore {
  const { replicas, timeout, settle } = options
  let upheaval = Number.NEGATIVE_INFINITY
  connection.onUpheaval(() => { upheaval = Date.now() })

  /**
   * `again`: this connection may not have written the record (a reconnect,
   * or an earlier try's write whose answer was lost), so it is written again
   * for `WAIT` to cover it.
   */
  async function confirm (sessionId: string, again: boolean): Promise<void> {
    const args = again ? [Date.now()] : []
    const acks = await guard(() => connection.waitAfter(TOUCH, keyOf(sessionId), args, replicas, timeout), timeout + commandTimeout)
    if (acks < replicas) {
      // Writes are not durable now (a promoted master without its replica
      // yet): the tokens they carried sit in some process's memory, so this
      // store does not vouch for its reads either.
      upheaval = Date.now()
      throw new Error(`Redis: ${acks} of ${replicas} replicas acknowledged the write within ${timeout} ms`)
    }
  }

  return {
    ...store,
    async set (sessionId, token) {
      await store.set(sessionId, token)
      await confirm(sessionId, false)
    },
    async update (sessionId, previous, next) {
      if (!await store.update(sessionId, previous, next)) {
        // An earlier try's write may have landed and only its WAIT failed:
        // confirm it rather than refuse it (that would drop the token).
        if (!isWrittenToken(await store.get(sessionId), next)) return false
        await confirm(sessionId, true)
        return true
      }
      await confirm(sessionId, false)
      return true
    },
    settled () {
      return Date.now() - upheaval >= settle
    }
  }
}
