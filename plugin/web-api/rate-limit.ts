import type { FastifyBaseLogger } from 'fastify'
import { RateLimitedError } from '../errors.js'
import { summaryOf } from '../failures.js'
import { retryAfterMs } from '../retry-after.js'
import type { RateLimitWindow } from '../store/types.js'

/** What a blocked call rejects with: a 429 that names the seconds left, in its body and its header. */
export interface RateLimitedFailure extends Error {
  readonly code: 'FST_SPOTIFY_RATE_LIMITED'
  readonly statusCode: 429
  /** Whole seconds left, at least 1. */
  readonly retryAfter: number
  /** `{ 'retry-after': … }`: Fastify's default error handler and the plugin's own send it. */
  readonly headers: Readonly<Record<string, string>>
}

/**
 * Spotify's rate limit is per app: once the Web API answers 429 with
 * `Retry-After`, no call goes out until it has passed, from this process or
 * (with a store that shares the window) from any other. The call policy
 * checks it before every call and feeds it every 429: a comparison with a
 * number kept in memory, no round trip.
 */
export class RateLimitGate {
  readonly #shared: RateLimitWindow | undefined
  readonly #log: FastifyBaseLogger
  /** This process's own copy: it holds even when the store failed to share the window. */
  #until = 0

  constructor (shared: RateLimitWindow | undefined, log: FastifyBaseLogger) {
    this.#shared = shared
    this.#log = log
  }

  /** Until when no call goes out (Unix ms): the later of this process's window and the store's; a time past when none is open. */
  until (): number {
    const shared = this.#shared === undefined ? 0 : this.#shared.until()
    return shared > this.#until ? shared : this.#until
  }

  /** A `FST_SPOTIFY_RATE_LIMITED` error while the window is open, otherwise `undefined`. */
  blocked (): RateLimitedFailure | undefined {
    const left = this.until() - Date.now()
    if (left <= 0) return undefined
    const seconds = Math.ceil(left / 1000)
    return Object.assign(new RateLimitedError(String(seconds)), { retryAfter: seconds, headers: { 'retry-after': String(seconds) } }) as unknown as RateLimitedFailure
  }

  /**
   * After a Web API 429: a readable `Retry-After` opens the window, here at
   * once and in the store for the others. A store that fails to take it is
   * logged, never the caller's failure.
   */
  async observe (retryAfter: string | string[] | undefined): Promise<void> {
    const now = Date.now()
    const wait = retryAfterMs(retryAfter, now)
    if (wait === undefined) return
    const until = now + wait
    if (until > this.#until) this.#until = until
    if (this.#shared === undefined) return
    try {
      await this.#shared.hold(until)
    } catch (err) {
      this.#log.warn({ err: summaryOf(err) }, 'fastify-spotify-auth: the store could not share the rate-limit window')
    }
  }
}
