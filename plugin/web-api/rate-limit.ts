import type { FastifyBaseLogger } from 'fastify'
import { RateLimitedError } from '../errors.js'
import { summaryOf } from '../failures.js'
import { retryAfterMs } from '../retry-after.js'
import type { RateLimitWindow } from '../store/types.js'
import { rateLimitChannel, type RateLimitMessage, type RateLimitReason } from '../diagnostics/channels.js'

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
  /** The end of the window last published as opened on the `rate-limit` channel (0: none open). */
  #announced = 0
  /** Why the window last opened here. */
  #reason: RateLimitReason = 'rate'

  constructor (shared: RateLimitWindow | undefined, log: FastifyBaseLogger) {
    this.#shared = shared
    this.#log = log
  }

  /** A `FST_SPOTIFY_RATE_LIMITED` error while the window is open, otherwise `undefined`. */
  blocked (): RateLimitedFailure | undefined {
    const shared = this.#shared === undefined ? 0 : this.#shared.until()
    const until = shared > this.#until ? shared : this.#until
    const now = Date.now()
    if (rateLimitChannel.hasSubscribers) this.#announce(until, now, 'shared')
    const left = until - now
    if (left <= 0) return undefined
    const seconds = Math.ceil(left / 1000)
    return Object.assign(new RateLimitedError(String(seconds)), { retryAfter: seconds, headers: { 'retry-after': String(seconds) } }) as unknown as RateLimitedFailure
  }

  /**
   * After a Web API 429: a readable `Retry-After` opens the window, here at
   * once and in the store for the others. A store that fails to take it is
   * logged, never the caller's failure.
   */
  async observe (retryAfter: string | string[] | undefined, reason: RateLimitReason): Promise<void> {
    const now = Date.now()
    const wait = retryAfterMs(retryAfter, now)
    if (wait === undefined) return
    const until = now + wait
    this.#reason = reason
    if (until > this.#until) this.#until = until
    if (rateLimitChannel.hasSubscribers) this.#announce(this.#until, now, 'local')
    if (this.#shared === undefined) return
    try {
      await this.#shared.hold(until)
    } catch (err) {
      this.#log.warn({ err: summaryOf(err) }, 'fastify-spotify-auth: the store could not share the rate-limit window')
    }
  }

  /**
   * Publishes what changed since the last message: a window that opened or
   * reaches further (a 429 here, or another instance's through the store),
   * or one that is over (seen by the first call after it).
   */
  #announce (until: number, now: number, origin: RateLimitMessage['origin']): void {
    if (until > now) {
      if (until <= this.#announced) return
      this.#announced = until
      rateLimitChannel.publish({ state: 'opened', reason: this.#reason, retryAfter: Math.ceil((until - now) / 1000), until, origin } satisfies RateLimitMessage)
    } else if (this.#announced !== 0) {
      rateLimitChannel.publish({ state: 'closed', reason: this.#reason, retryAfter: 0, until: this.#announced, origin } satisfies RateLimitMessage)
      this.#announced = 0
    }
  }
}
