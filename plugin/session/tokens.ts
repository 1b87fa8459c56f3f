import type { FastifyBaseLogger } from 'fastify'
import { RefreshBusyError, SessionRevokedError } from '../errors.js'
import { because, storeCall, storeFailure } from '../failures.js'
import { RenewalRule } from '../renewal-rule.js'
import { clientRefused, TokenRefusedError, type TokenEndpoint } from '../spotify/token-endpoint.js'
import type { SpotifyToken, TokenStore } from '../store/types.js'
import { UnsavedTokens, type UnsavedWrite } from './unsaved.js'

/** Poll interval of a process waiting for another one's refresh (plus up to as much jitter). */
const POLL_MS = 25
/**
 * The same, when the store announces changes (`watch`): polling is then only
 * the safety net for a lost message, and a holder that died.
 */
const WATCHED_POLL_MS = 250
/** How long past the lock's TTL a waiter keeps hoping before it answers 503. */
const LOCK_MARGIN_MS = 1000

/** The stored record is no longer `stale`: deleted, or refreshed by someone else. */
function moved (current: SpotifyToken | undefined, stale: SpotifyToken): boolean {
  return current === undefined || current.refreshes !== stale.refreshes
}

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

/** `token` is `next` itself, as a store hands it back (stores may return copies). */
function isSame (token: SpotifyToken | undefined, next: SpotifyToken): boolean {
  return token !== undefined && token.refreshes === next.refreshes && token.accessToken === next.accessToken
}

function pause (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * The rounds of a process waiting for another one's refresh: each ends at
 * the store's news of the session (`watch`), or after a poll interval. The
 * watch is armed before the first round and again as soon as news came, so
 * that news between two rounds is not missed; a store that cannot watch
 * leaves the waiter polling.
 */
class Rounds {
  readonly #store: TokenStore
  readonly #sessionId: string
  readonly #stop = new AbortController()
  #news: Promise<'news' | 'failed'> | undefined

  constructor (store: TokenStore, sessionId: string) {
    this.#store = store
    this.#sessionId = sessionId
    if (store.watch !== undefined) this.#arm()
  }

  #arm (): void {
    this.#news = storeCall(() => (this.#store.watch as NonNullable<TokenStore['watch']>)(this.#sessionId, this.#stop.signal))
      .then(() => 'news' as const, () => 'failed' as const)
  }

  async next (): Promise<void> {
    const news = this.#news
    if (news === undefined) return await pause(POLL_MS + Math.random() * POLL_MS)
    let timer: NodeJS.Timeout | undefined
    const polled = new Promise<'polled'>((resolve) => { timer = setTimeout(resolve, WATCHED_POLL_MS + Math.random() * WATCHED_POLL_MS, 'polled') })
    const outcome = await Promise.race([news, polled])
    clearTimeout(timer)
    if (outcome === 'news') this.#arm()
    else if (outcome === 'failed') this.#news = undefined
  }

  stop (): void {
    this.#stop.abort()
  }
}

export interface SessionTokensOptions {
  store: TokenStore
  endpoint: TokenEndpoint
  /** Milliseconds before `expiresAt` from which a token counts as expired. */
  refreshMargin: number
  /** Milliseconds after `obtainedAt` during which a rejected token is not refreshed again. */
  refreshCooldown: number
  /** The store lock's TTL in ms: longer than a token call may take (`timeout`). */
  lockTtl: number
  onRefresh: ((sessionId: string, token: SpotifyToken) => Promise<void> | void) | undefined
  log: FastifyBaseLogger
}

/**
 * Keeps each session's tokens valid, the way SpotifyAPI-NET's
 * AuthorizationCodeAuthenticator does: a token within `refreshMargin` of
 * expiry is refreshed before use, concurrent callers of one session share a
 * single refresh (across processes too, when the store has a lock), and
 * Spotify's answers decide what happens to the session. It knows session ids
 * only: cookies and requests are `Session`'s business.
 */
export class SessionTokens {
  readonly #store: TokenStore
  readonly #endpoint: TokenEndpoint
  readonly #rule: RenewalRule
  readonly #lockTtl: number
  readonly #onRefresh: SessionTokensOptions['onRefresh']
  readonly #log: FastifyBaseLogger
  readonly #inflight = new Map<string, Promise<SpotifyToken | undefined>>()
  readonly #flushing = new Map<string, Promise<SpotifyToken | undefined>>()
  readonly #unsaved: UnsavedTokens

  constructor (options: SessionTokensOptions) {
    this.#store = options.store
    this.#endpoint = options.endpoint
    this.#rule = new RenewalRule(options.refreshMargin, options.refreshCooldown)
    this.#lockTtl = options.lockTtl
    this.#onRefresh = options.onRefresh
    this.#log = options.log
    this.#unsaved = new UnsavedTokens(UNSAVED_LIMIT, (sessionId) => this.#read(sessionId), options.log)
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

  /** The session's token, refreshed first when near expiry; `undefined` without a session. */
  valid (sessionId: string): Promise<SpotifyToken | undefined> {
    return this.#read(sessionId).then((token) =>
      token === undefined || this.#rule.isFresh(token.expiresAt) ? token : this.#refresh(sessionId, token))
  }

  /**
   * Refreshes now, whatever the expiry, joining a refresh already running.
   * With `rejected` (an access token Spotify answered 401 to), only if that
   * token is still the stored one (when someone else has replaced it, theirs
   * is used) and older than `refreshCooldown` (a younger one comes back
   * unchanged: the caller passes the 401 on).
   */
  async refresh (sessionId: string, rejected?: string): Promise<SpotifyToken | undefined> {
    const token = await this.#read(sessionId)
    if (token === undefined) return undefined
    if (rejected !== undefined && !this.#rule.renewsAfter401(rejected, { accessToken: token.accessToken, obtainedAtMs: token.obtainedAt * 1000 })) return token
    return await this.#refresh(sessionId, token)
  }

  /** The stored token; a refreshed token the store has not taken yet is written first. */
  #read (sessionId: string): Promise<SpotifyToken | undefined> {
    if (this.#unsaved.size > 0 && this.#unsaved.get(sessionId) !== undefined) return storeCall(() => this.#flush(sessionId))
    return storeCall(() => this.#store.get(sessionId))
  }

  /** Writes a held token again, once at a time per session (a request and the background retry may meet). */
  #flush (sessionId: string): Promise<SpotifyToken | undefined> {
    let pending = this.#flushing.get(sessionId)
    if (pending === undefined) {
      const write = this.#unsaved.get(sessionId) as UnsavedWrite
      pending = this.#apply(sessionId, write).then((token) => {
        this.#unsaved.drop(sessionId, write)
        return token
      }).finally(() => this.#flushing.delete(sessionId))
      this.#flushing.set(sessionId, pending)
    }
    return pending
  }

  /**
   * Stores a refreshed token, trying again on failure. When the store still
   * fails, the token is held in memory (`UnsavedTokens`) and the request gets
   * a 503: with rotating refresh tokens it is the only valid one left, so it
   * must not be dropped, and answering with it while the store holds a dead
   * one would only move the failure to the next request.
   */
  async #save (sessionId: string, write: UnsavedWrite, attempt = 1, started = Date.now()): Promise<SpotifyToken | undefined> {
    try {
      return await this.#apply(sessionId, write)
    } catch (err) {
      const delay = WRITE_BACKOFF_MS * 2 ** (attempt - 1)
      if (attempt >= WRITE_ATTEMPTS || Date.now() + delay - started > WRITE_BUDGET_MS) {
        this.#unsaved.keep(sessionId, write)
        this.#log.error({ err: because(err).cause, attempts: attempt },
          'fastify-spotify-auth: a refreshed token could not be stored: it is kept in memory and written again on the next request and in the background')
        throw storeFailure(err)
      }
      await pause(delay + Math.random() * delay)
    }
    return await this.#save(sessionId, write, attempt + 1, started)
  }

  /**
   * Writes `next` over `stale`; resolves what the session holds afterwards.
   * An update that finds another version is one of: an earlier try's write
   * whose answer was lost (the record is `next`); a store rolled back by a
   * failover to a version older than `stale` (`next` is newer than anything
   * it has: written over what is there); or a logout or a sibling's refresh
   * (the store has the truth, and a logout must not be undone).
   */
  async #apply (sessionId: string, { stale, next }: UnsavedWrite): Promise<SpotifyToken | undefined> {
    if (!await this.#store.update(sessionId, stale, next)) {
      const current = await this.#store.get(sessionId)
      const rolledBack = current !== undefined && current.refreshes < stale.refreshes
      if (rolledBack) {
        if (!await this.#store.update(sessionId, current, next)) return await this.#store.get(sessionId)
      } else if (!isSame(current, next)) {
        return current
      }
    }
    await this.#notify(sessionId, next)
    return next
  }

  #refresh (sessionId: string, stale: SpotifyToken): Promise<SpotifyToken | undefined> {
    let pending = this.#inflight.get(sessionId)
    if (pending === undefined) {
      const run = this.#store.lock === undefined ? this.#refreshIfStill(sessionId, stale) : this.#refreshLocked(sessionId, stale)
      pending = run.finally(() => this.#inflight.delete(sessionId))
      this.#inflight.set(sessionId, pending)
    }
    return pending
  }

  /**
   * One refresh per session across every process sharing the store: the
   * holder of the store's lock refreshes; the others wait for the new
   * version (told by the store's `watch`, or polling), trying for the lock
   * on each round so that a holder that died only costs the lock's TTL.
   * Past the TTL plus a margin without news: 503.
   */
  async #refreshLocked (sessionId: string, stale: SpotifyToken): Promise<SpotifyToken | undefined> {
    const store = this.#store as Required<Pick<TokenStore, 'lock'>> & TokenStore
    const deadline = Date.now() + this.#lockTtl + LOCK_MARGIN_MS
    const rounds = new Rounds(store, sessionId)
    try {
      for (;;) {
        const release = await storeCall(() => store.lock(sessionId, this.#lockTtl))
        if (release !== undefined) {
          try {
            return await this.#refreshIfStill(sessionId, stale)
          } finally {
            await release().catch((err: unknown) => this.#log.warn({ err: because(err).cause }, 'fastify-spotify-auth: lock release failed'))
          }
        }
        if (Date.now() > deadline) throw new RefreshBusyError()
        await rounds.next()
        const current = await this.#read(sessionId)
        if (moved(current, stale)) return current
      }
    } finally {
      rounds.stop()
    }
  }

  /**
   * Re-reads the store before calling Spotify: a caller that read `stale`
   * before someone else's refresh landed (another process, or a refresh of
   * this one that finished before this caller's read resolved) must not burn
   * the refresh token again.
   */
  async #refreshIfStill (sessionId: string, stale: SpotifyToken): Promise<SpotifyToken | undefined> {
    const current = await this.#read(sessionId)
    return moved(current, stale) ? current : await this.#refreshOnce(sessionId, current as SpotifyToken)
  }

  async #refreshOnce (sessionId: string, stale: SpotifyToken): Promise<SpotifyToken | undefined> {
    let next: SpotifyToken
    try {
      next = await this.#endpoint.refresh(stale)
    } catch (err) {
      if (!(err instanceof TokenRefusedError)) {
        // Down or slow (already a 502/504): the stored token is untouched and
        // the next request tries again.
        throw err
      }
      if (err.error === 'invalid_grant') {
        // Revoked, unknown or past its lifetime: no retry can help, and the
        // session must not linger to fail again on every request. Unless a
        // sibling rotated the refresh token under us (a lost race, or a lock
        // that expired mid-refresh): then the record has moved on, is not
        // deleted, and its token is good. A store that cannot vouch yet that
        // it holds every write (a failover under way: the rotated token may
        // be on its way back from another process's memory) keeps the
        // session: 503 now, and the verdict on a later request.
        if (this.#store.settled?.(sessionId) === false) throw storeFailure(new Error('the store is settling after a failover'))
        await storeCall(() => this.#store.delete(sessionId, stale))
        const current = await this.#read(sessionId)
        if (current !== undefined) return current
        throw new SessionRevokedError(because(err))
      }
      // The session is kept for when the configuration is fixed.
      throw clientRefused(err)
    }
    return await this.#save(sessionId, { stale, next })
  }

  async #notify (sessionId: string, token: SpotifyToken): Promise<void> {
    if (this.#onRefresh === undefined) return
    try {
      await this.#onRefresh(sessionId, token)
    } catch (err) {
      this.#log.error({ err: because(err).cause }, 'fastify-spotify-auth: onRefresh failed')
    }
  }
}
