import type { FastifyBaseLogger } from 'fastify'
import { QuotaExceededError, RateLimitedError } from '../errors.js'
import { summaryOf } from '../failures.js'
import { retryAfterMs } from '../retry-after.js'
import type { RateLimitReason, RateLimitWindow } from '../store/types.js'
import { rateLimitChannel, type RateLimitMessage } from '../diagnostics/channels.js'

/** What a blocked call rejects with: a 429 that names the seconds left, in its body and its header. */
export interface RateLimitedFailure extends Error {
  /** `FST_SPOTIFY_QUOTA_EXCEEDED` when Spotify said its quota is spent, otherwise `FST_SPOTIFY_RATE_LIMITED`. */
  readonly code: 'FST_SPOTIFY_RATE_LIMITED' | 'FST_SPOTIFY_QUOTA_EXCEEDED'
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
 * number kept in memory, no round trip. A 429 that says the quota is spent
 * opens the same window, remembered as such, so that every client (and,
 * with a store that keeps the reason, every instance) answers
 * `FST_SPOTIFY_QUOTA_EXCEEDED` rather than a short rate limit.
 */
export class RateLimitGate {
  readonly #shared: RateLimitWindow | undefined
  readonly #log: FastifyBaseLogger
  /** This process's own copy: it holds even when the store failed to share the window. */
  #until = 0
  /** The end of the window last published as opened on the `rate-limit` channel (0: none open). */
  #announced = 0
  /** Why the window last opened here (`undefined`: a plain rate limit). */
  #reason: RateLimitReason | undefined

  constructor (shared: RateLimitWindow | undefined, log: FastifyBaseLogger) {
    this.#shared = shared
    this.#log = log
  }

  /** Until when no call goes out (Unix ms): the later of this process's window and the store's; a time past when none is open. */
  until (): number {
    const shared = this.#shared === undefined ? 0 : this.#shared.until()
    return shared > this.#until ? shared : this.#until
  }

  /** A `FST_SPOTIFY_RATE_LIMITED` (or `FST_SPOTIFY_QUOTA_EXCEEDED`) error while the window is open, otherwise `undefined`. */
  blocked (): RateLimitedFailure | undefined {
    const shared = this.#shared === undefined ? 0 : this.#shared.until()
    const local = shared <= this.#until
    const until = local ? this.#until : shared
    const now = Date.now()
    const reason = local ? this.#reason : this.#shared?.reason?.()
    if (rateLimitChannel.hasSubscribers) this.#announce(until, now, 'shared', reason)
    const left = until - now
    if (left <= 0) return undefined
    const seconds = Math.ceil(left / 1000)
    const Failure = reason === 'quota' ? QuotaExceededError : RateLimitedError
    return Object.assign(new Failure(String(seconds)), { retryAfter: seconds, headers: { 'retry-after': String(seconds) } }) as unknown as RateLimitedFailure
  }

  /**
   * After a Web API 429: a readable `Retry-After` opens the window, here at
   * once and in the store for the others, with its `reason` (`'quota'`).
   * A store that fails to take it is logged, never the caller's failure.
   */
  async observe (retryAfter: string | string[] | undefined, reason?: RateLimitReason): Promise<void> {
    const now = Date.now()
    const wait = retryAfterMs(retryAfter, now)
    if (wait === undefined) return
    const until = now + wait
    // Told apart in the logs: a quota lasts hours and needs a person (fewer
    // calls, or Extended Quota Mode); a rate limit passes by itself.
    if (reason === 'quota') this.#log.warn({ retryAfterSeconds: Math.ceil(wait / 1000), reason: 'QUOTA_EXCEEDED' }, 'fastify-spotify-auth: Spotify\'s quota for this app is spent; no Web API call until Retry-After has passed')
    else this.#log.info({ retryAfterSeconds: Math.ceil(wait / 1000) }, 'fastify-spotify-auth: Spotify\'s rate limit (429); no Web API call until Retry-After has passed')
    if (until > this.#until) {
      this.#until = until
      this.#reason = reason
    }
    if (rateLimitChannel.hasSubscribers) this.#announce(this.#until, now, 'local', this.#reason)
    if (this.#shared === undefined) return
    try {
      await this.#shared.hold(until, reason)
    } catch (err) {
      this.#log.warn({ err: summaryOf(err) }, 'fastify-spotify-auth: the store could not share the rate-limit window')
    }
  }

  /**
   * Publishes what changed since the last message: a window that opened or
   * reaches further (a 429 here, or another instance's through the store),
   * or one that is over (seen by the first call after it).
   */
  #announce (until: number, now: number, origin: RateLimitMessage['origin'], why: RateLimitReason | undefined): void {
    const reason = why ?? 'rate'
    if (until > now) {
      if (until <= this.#announced) return
      this.#announced = until
      rateLimitChannel.publish({ state: 'opened', reason, retryAfter: Math.ceil((until - now) / 1000), until, origin } satisfies RateLimitMessage)
    } else if (this.#announced !== 0) {
      rateLimitChannel.publish({ state: 'closed', reason, retryAfter: 0, until: this.#announced, origin } satisfies RateLimitMessage)
      this.#announced = 0
    }
  }
}
