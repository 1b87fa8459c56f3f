import { within } from '../kit/within.js'
import type { RedisConnection } from './connection.js'
import { isConnectionFailure } from './failures.js'

/**
 * Sends a command the way every command of the Redis store goes: at once,
 * or not at all. `ms` bounds it (default: the store's `commandTimeout`).
 */
export type Guard = <T>(operation: () => Promise<T>, ms?: number) => Promise<T>

/** How the guard bounds and refuses commands. */
export interface GuardOptions {
  /** Longest wait for one command, in ms. */
  readonly commandTimeout: number
  /** How long to refuse commands after a connection failure, in ms; 0: never. */
  readonly failFastFor: number
}

/**
 * Fails fast instead of queueing when Redis is not connected, and bounds a
 * command that hangs (a paused or overloaded server, a Cluster failing
 * over): the request gets a 503, and the store recovers by itself.
 *
 * After a failure of the connection or of the topology (./failures.ts), the
 * following commands fail at once for `failFastFor` ms, saying why: an
 * ioredis Cluster keeps `status === 'ready'` while a master is failing over,
 * and each command would wait out redirections, retries or the timeout. A
 * new failure opens a new window, so the store recovers at most
 * `failFastFor` ms after Redis does.
 */
export function commandGuard (connection: RedisConnection, { commandTimeout, failFastFor }: GuardOptions): Guard {
  let refusedUntil = 0
  let reason = ''
  return function guarded<T> (operation: () => Promise<T>, ms = commandTimeout): Promise<T> {
    if (connection.status !== 'ready') return Promise.reject(new Error(`Redis is not connected (${connection.status})`))
    if (refusedUntil !== 0) {
      if (Date.now() < refusedUntil) return Promise.reject(new Error(`Redis failed a moment ago, not trying again yet (${reason})`))
      refusedUntil = 0
    }
    return within('Redis', ms, operation).catch((error: unknown) => {
      if (failFastFor > 0 && isConnectionFailure(error)) {
        refusedUntil = Date.now() + failFastFor
        reason = (error as Error).message
      }
      throw error
    })
  }
}
