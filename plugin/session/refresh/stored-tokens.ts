import type { FastifyBaseLogger } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import { storeCall, storeFailure, summaryOf } from '../../failures.js'
import type { SpotifyToken, TokenStore } from '../../store/types.js'
import { isWrittenToken } from '../../token-versions.js'
import type { RefreshTokenEnd, SpotifyAuthOptions } from '../../options.js'
import { SingleFlight } from './single-flight.js'
import { UnsavedTokens, type UnsavedWrite } from './unsaved.js'

/**
 * A refreshed token's write is tried this many times, backing off from
 * WRITE_BACKOFF_MS (doubled each time, plus up to as much jitter: about 1 to
 * 2 s in all, longer than the Redis store's default failFastFor), and no new
 * try starts past WRITE_BUDGET_MS: a store that blinks (a reconnect, a
 * failover's first seconds) costs the request latency instead of a 503.
 */
const WRITE_ATTEMPTS = 4
const WRITE_BACKOFF_MS = 150
const WRITE_BUDGET_MS = 3000
/** Most refreshed tokens held in memory while the store refuses them. */
const UNSAVED_LIMIT = 10_000

export interface StoredTokensOptions {
  readonly store: TokenStore
  /** Told of every refreshed token once the store holds it, and of every session Spotify ended. */
  readonly onRefresh: SpotifyAuthOptions['onRefresh']
  readonly log: FastifyBaseLogger
}

/**
 * The store as the refresh engine reads and writes it. A refreshed token is
 * written with a few tries; when the store still refuses it, it is held in
 * memory (`UnsavedTokens`) and written again before the session's next read
 * and in the background: with rotating refresh tokens it is the only valid
 * one left, so it must not be dropped.
 */
export class StoredTokens {
  readonly #store: TokenStore
  readonly #onRefresh: StoredTokensOptions['onRefresh']
  readonly #log: FastifyBaseLogger
  readonly #unsaved: UnsavedTokens
  readonly #heldWrites = new SingleFlight<SpotifyToken | undefined>()

  constructor (options: StoredTokensOptions) {
    this.#store = options.store
    this.#onRefresh = options.onRefresh
    this.#log = options.log
    this.#unsaved = new UnsavedTokens(UNSAVED_LIMIT, (sessionId) => this.read(sessionId), options.log)
  }

  /** The stored token; a refreshed token the store has not taken yet is written first. */
  read (sessionId: string): Promise<SpotifyToken | undefined> {
    if (this.#unsaved.size > 0 && this.#unsaved.get(sessionId) !== undefined) return storeCall(() => this.#writeHeld(sessionId))
    return storeCall(() => this.#store.get(sessionId))
  }

  /**
   * Stores a refreshed token, trying again on failure; resolves what the
   * session holds afterwards. When the store still fails, the token is held
   * and the request gets a 503: answering with it while the store holds a
   * dead one would only move the failure to the next request.
   */
  save (sessionId: string, write: UnsavedWrite): Promise<SpotifyToken | undefined> {
    return this.#saveFrom(sessionId, write, 1, Date.now())
  }

  /**
   * Stops the background retries, after one last try of every write still
   * held (a token given up here is lost: the log says how many).
   */
  async close (): Promise<void> {
    this.#unsaved.close()
    const left = await this.#unsaved.retryAll()
    if (left > 0) this.#log.error({ sessions: left }, 'fastify-spotify-auth: refreshed tokens the store never took are lost at close: their sessions must log in again')
  }

  /** `save`'s try number `attempt`, in a save that started at `started`. */
  async #saveFrom (sessionId: string, write: UnsavedWrite, attempt: number, started: number): Promise<SpotifyToken | undefined> {
    try {
      return await this.#writeOver(sessionId, write)
    } catch (err) {
      const delay = WRITE_BACKOFF_MS * 2 ** (attempt - 1)
      if (attempt >= WRITE_ATTEMPTS || Date.now() + delay - started > WRITE_BUDGET_MS) {
        this.#unsaved.keep(sessionId, write)
        this.#log.error({ err: summaryOf(err), attempts: attempt },
          'fastify-spotify-auth: a refreshed token could not be stored: it is kept in memory and written again on the next request and in the background')
        throw storeFailure(err)
      }
      await sleep(delay + Math.random() * delay)
    }
    return await this.#saveFrom(sessionId, write, attempt + 1, started)
  }

  /** Writes a held token again, once at a time per session (a request and the background retry may meet). */
  #writeHeld (sessionId: string): Promise<SpotifyToken | undefined> {
    return this.#heldWrites.run(sessionId, () => {
      const write = this.#unsaved.get(sessionId) as UnsavedWrite
      return this.#writeOver(sessionId, write).then((token) => {
        this.#unsaved.drop(sessionId, write)
        return token
      })
    })
  }

  /**
   * Writes `next` over `stale`; resolves what the session holds afterwards.
   * An update that finds another version is one of: an earlier try's write
   * whose answer was lost (the record is `next`); a store rolled back by a
   * failover to a version older than `stale` (`next` is newer than anything
   * it has: written over what is there); or a logout or a sibling's refresh
   * (the store has the truth, and a logout must not be undone).
   */
  async #writeOver (sessionId: string, { stale, next }: UnsavedWrite): Promise<SpotifyToken | undefined> {
    if (!await this.#store.update(sessionId, stale, next)) {
      const current = await this.#store.get(sessionId)
      const rolledBack = current !== undefined && current.refreshes < stale.refreshes
      if (rolledBack) {
        if (!await this.#store.update(sessionId, current, next)) return await this.#store.get(sessionId)
      } else if (!isWrittenToken(current, next)) {
        return current
      }
    }
    await this.#announce(sessionId, next)
    return next
  }

  /**
   * Spotify refused the session's refresh token and the session is gone:
   * logged with its reason (never the session id), and told to `onRefresh`.
   */
  async ended (sessionId: string, last: SpotifyToken, reason: RefreshTokenEnd): Promise<void> {
    this.#log.info({ reason }, 'fastify-spotify-auth: Spotify refused the refresh token; the session ended')
    await this.#announce(sessionId, last, { outcome: 'ended', reason })
  }

  /** `onRefresh`, whose failure is logged and never fails the request. */
  async #announce (sessionId: string, token: SpotifyToken, event: Parameters<NonNullable<SpotifyAuthOptions['onRefresh']>>[2] = { outcome: 'refreshed' }): Promise<void> {
    if (this.#onRefresh === undefined) return
    try {
      await this.#onRefresh(sessionId, token, event)
    } catch (err) {
      this.#log.error({ err: summaryOf(err) }, 'fastify-spotify-auth: onRefresh failed')
    }
  }
}
