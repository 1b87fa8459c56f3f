import type { FastifyBaseLogger } from 'fastify'
import { RefreshBusyError } from '../../errors.js'
import { storeCall, summaryOf } from '../../failures.js'
import type { SpotifyToken, TokenStore } from '../../store/types.js'
import { hasMovedOn } from '../../token-versions.js'
import type { TokenRefreshMessage } from '../../diagnostics/channels.js'
import { SiblingWatch } from './sibling-watch.js'

/** What a traced refresh learns here (the `token.refresh` channel's message). */
export type RefreshNote = Pick<TokenRefreshMessage, 'merged' | 'lockWaitMs'>

/** How long past the lock's TTL a waiter keeps hoping before it answers 503. */
const LOCK_MARGIN_MS = 1000

/** A store that offers the refresh lock. */
export type LockingStore = TokenStore & Required<Pick<TokenStore, 'lock'>>

/** The store offers the refresh lock (`lock`). */
export function canLock (store: TokenStore): store is LockingStore {
  return store.lock !== undefined
}

export interface CrossProcessFlightOptions {
  readonly store: LockingStore
  /** The store lock's TTL in ms: longer than a token call may take (`timeout`). */
  readonly lockTtl: number
  /** How the engine reads a session (a token it holds unsaved is written first). */
  readonly read: (sessionId: string) => Promise<SpotifyToken | undefined>
  readonly log: FastifyBaseLogger
}

/**
 * One refresh per session across every process sharing the store: the
 * holder of the store's lock refreshes; the others wait for the new
 * version (told by the store's `watch`, or polling), trying for the lock
 * on each turn so that a holder that died only costs the lock's TTL.
 * Past the TTL plus a margin without news: 503.
 */
export class CrossProcessFlight {
  readonly #store: LockingStore
  readonly #lockTtl: number
  readonly #read: CrossProcessFlightOptions['read']
  readonly #log: FastifyBaseLogger

  constructor (options: CrossProcessFlightOptions) {
    this.#store = options.store
    this.#lockTtl = options.lockTtl
    this.#read = options.read
    this.#log = options.log
  }

  /**
   * `refresh()` under the lock, or the sibling's token that replaced `stale`
   * (or `undefined` once the session is gone) while waiting for it.
   */
  async run (sessionId: string, stale: SpotifyToken, refresh: () => Promise<SpotifyToken | undefined>, note: RefreshNote): Promise<SpotifyToken | undefined> {
    const store = this.#store
    const started = performance.now()
    const deadline = Date.now() + this.#lockTtl + LOCK_MARGIN_MS
    const watch = new SiblingWatch(store, sessionId)
    try {
      for (;;) {
        const release = await storeCall(() => store.lock(sessionId, this.#lockTtl))
        if (release !== undefined) {
          note.lockWaitMs = performance.now() - started
          try {
            return await refresh()
          } finally {
            await release().catch((err: unknown) => this.#log.warn({ err: summaryOf(err) }, 'fastify-spotify-auth: lock release failed'))
          }
        }
        if (Date.now() > deadline) throw new RefreshBusyError()
        await watch.nextTurn()
        const current = await this.#read(sessionId)
        if (hasMovedOn(current, stale)) {
          note.lockWaitMs = performance.now() - started
          note.merged = true
          return current
        }
      }
    } finally {
      watch.stop()
    }
  }
}
