import type { FastifyBaseLogger } from 'fastify'
import { RefreshBusyError } from '../errors.js'
import { RenewalRule } from '../renewal-rule.js'
import type { TokenEndpoint } from '../accounts/token-endpoint.js'
import type { SpotifyAuthOptions } from '../options.js'
import type { SpotifyToken, TokenStore } from '../store/types.js'
import { hasMovedOn } from '../token-versions.js'
import { isRefusedInDoubt, markAttempt } from './refresh/attempt-mark.js'
import { canLock, CrossProcessFlight, type RefreshNote } from './refresh/cross-process-flight.js'
import { tokenRefreshChannel, traced, type RefreshReason, type TokenRefreshMessage } from '../diagnostics/channels.js'
import type { SessionTag } from '../diagnostics/session-tag.js'
import type { UsageCounter } from '../diagnostics/usage.js'
import { afterFailedRefresh } from './refresh/failed-refresh.js'
import { SingleFlight } from './refresh/single-flight.js'
import { StoredTokens } from './refresh/stored-tokens.js'

export interface SessionTokensOptions {
  store: TokenStore
  endpoint: TokenEndpoint
  /** Milliseconds before `expiresAt` from which a token counts as expired. */
  refreshMargin: number
  /** Milliseconds after `obtainedAt` during which a rejected token is not refreshed again. */
  refreshCooldown: number
  /** The store lock's TTL in ms: longer than a token call may take (`timeout`). */
  lockTtl: number
  onRefresh: SpotifyAuthOptions['onRefresh']
  log: FastifyBaseLogger
  /** How a session is named on the diagnostics channels. */
  tag: SessionTag
  /** Counts the refresh token calls, for `fastify.spotify.usage()`. */
  usage: UsageCounter
}

/** Where an untraced refresh writes what a traced one would publish: nobody reads it. */
const unnoted: RefreshNote = { merged: false, lockWaitMs: 0 }

/**
 * Keeps each session's tokens valid, the way SpotifyAPI-NET's
 * AuthorizationCodeAuthenticator does: a token within `refreshMargin` of
 * expiry is refreshed before use, concurrent callers of one session share a
 * single refresh (across processes too, when the store has a lock), and
 * Spotify's answers decide what happens to the session. It knows session ids
 * only: cookies and requests are `Session`'s business.
 *
 * This class decides when to refresh; the parts under `./refresh/` carry it
 * out: one refresh per session in this process (`SingleFlight`) and across
 * processes (`CrossProcessFlight`), the mark each attempt leaves on the
 * record first (`markAttempt`), writing and holding the new token
 * (`StoredTokens`), and what a refusal does to the session
 * (`afterFailedRefresh`).
 */
export class SessionTokens {
  readonly #store: TokenStore
  readonly #endpoint: TokenEndpoint
  readonly #rule: RenewalRule
  readonly #stored: StoredTokens
  readonly #crossProcess: CrossProcessFlight | undefined
  readonly #inProcess = new SingleFlight<SpotifyToken | undefined>()
  readonly #tag: SessionTag
  readonly #usage: UsageCounter

  constructor (options: SessionTokensOptions) {
    this.#store = options.store
    this.#endpoint = options.endpoint
    this.#rule = new RenewalRule(options.refreshMargin, options.refreshCooldown)
    this.#tag = options.tag
    this.#usage = options.usage
    this.#stored = new StoredTokens({ store: options.store, onRefresh: options.onRefresh, log: options.log })
    const read = (sessionId: string) => this.#stored.read(sessionId)
    this.#crossProcess = canLock(options.store)
      ? new CrossProcessFlight({ store: options.store, lockTtl: options.lockTtl, read, log: options.log })
      : undefined
  }

  /**
   * Stops the background retries, after one last try of every write still
   * held (a token given up here is lost: the log says how many).
   */
  close (): Promise<void> {
    return this.#stored.close()
  }

  /** The session's token as stored, never refreshed (no call to Spotify); `undefined` without a session. */
  stored (sessionId: string): Promise<SpotifyToken | undefined> {
    return this.#stored.read(sessionId)
  }

  /** The session's token, refreshed first when near expiry; `undefined` without a session. */
  valid (sessionId: string): Promise<SpotifyToken | undefined> {
    return this.#stored.read(sessionId).then((token) =>
      token === undefined || this.#rule.isFresh(token.expiresAt) ? token : this.#refresh(sessionId, token, 'margin'))
  }

  /**
   * Refreshes now, whatever the expiry, joining a refresh already running.
   * With `rejected` (an access token Spotify answered 401 to), only if that
   * token is still the stored one (when someone else has replaced it, theirs
   * is used) and older than `refreshCooldown` (a younger one comes back
   * unchanged: the caller passes the 401 on).
   */
  async refresh (sessionId: string, rejected?: string): Promise<SpotifyToken | undefined> {
    const token = await this.#stored.read(sessionId)
    if (token === undefined) return undefined
    if (rejected !== undefined && !this.#rule.renewsAfter401(rejected, { accessToken: token.accessToken, obtainedAtMs: token.obtainedAt * 1000 })) return token
    return await this.#refresh(sessionId, token, rejected === undefined ? 'forced' : '401')
  }

  /** A refresh of `stale`, traced on the `token.refresh` channel when anyone subscribes. */
  #refresh (sessionId: string, stale: SpotifyToken, reason: RefreshReason): Promise<SpotifyToken | undefined> {
    if (!tokenRefreshChannel.hasSubscribers) return this.#flight(sessionId, stale, unnoted)
    const message: TokenRefreshMessage = { session: this.#tag(sessionId), reason, merged: false, lockWaitMs: 0 }
    return traced(tokenRefreshChannel, message, () => this.#flight(sessionId, stale, message))
  }

  /** One refresh per session, in this process and across processes; `note` learns whether this caller joined another's (and how long it waited). */
  #flight (sessionId: string, stale: SpotifyToken, note: RefreshNote): Promise<SpotifyToken | undefined> {
    if (this.#inProcess.has(sessionId)) note.merged = true
    return this.#inProcess.run(sessionId, () => this.#crossProcess === undefined
      ? this.#refreshIfStill(sessionId, stale, note)
      : this.#crossProcess.run(sessionId, stale, () => this.#refreshIfStill(sessionId, stale, note), note))
  }

  /**
   * Re-reads the store before calling Spotify: a caller that read `stale`
   * before someone else's refresh landed (another process, or a refresh of
   * this one that finished before this caller's read resolved) must not burn
   * the refresh token again.
   */
  async #refreshIfStill (sessionId: string, stale: SpotifyToken, note: RefreshNote): Promise<SpotifyToken | undefined> {
    const current = await this.#stored.read(sessionId)
    if (!hasMovedOn(current, stale)) return await this.#refreshOnce(sessionId, current as SpotifyToken, note)
    note.merged = true
    return current
  }

  /**
   * Marks the record before calling Spotify (a failed mark is a 503 and no
   * call), so that whoever meets Spotify's refusal next knows a rotated
   * token may be on its way back.
   */
  async #refreshOnce (sessionId: string, stale: SpotifyToken, note: RefreshNote): Promise<SpotifyToken | undefined> {
    if (isRefusedInDoubt(stale)) throw new RefreshBusyError()
    if (!await markAttempt(this.#store, sessionId, stale)) {
      note.merged = true
      return await this.#stored.read(sessionId)
    }
    let next: SpotifyToken
    this.#usage.refreshed()
    try {
      next = await this.#endpoint.refresh(stale)
    } catch (err) {
      return await afterFailedRefresh(err, {
        store: this.#store,
        sessionId,
        stale,
        read: (id) => this.#stored.read(id),
        tag: this.#tag,
        ended: (reason) => this.#stored.ended(sessionId, stale, reason)
      })
    }
    return await this.#stored.save(sessionId, { stale, next })
  }
}
