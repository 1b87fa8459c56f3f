import type { FastifyBaseLogger } from 'fastify'
import { because, NoSessionError, RefreshBusyError, SessionRevokedError, StoreUnavailableError } from './errors.js'
import { storeCall } from './store/call.js'
import type { SpotifyToken, TokenStore } from './store/types.js'
import { clientRefused, TokenRefusedError, type TokenEndpoint } from './token-endpoint.js'

/** Poll interval of a process waiting for another one's refresh (plus up to as much jitter). */
const POLL_MS = 25
/** How long past the lock's TTL a waiter keeps hoping before it answers 503. */
const LOCK_MARGIN_MS = 1000

/**
 * A session's token, or `undefined` (with `required`: a 401 instead); `forget`
 * runs when the session turns out to be gone (logout elsewhere, store expiry)
 * or revoked by Spotify, so that the browser stops sending a cookie that can
 * no longer work.
 */
export function forgetting (loading: Promise<SpotifyToken | undefined>, forget: () => void, required = false): Promise<SpotifyToken | undefined> {
  return loading.then((token) => {
    if (token === undefined) {
      forget()
      if (required) throw new NoSessionError()
    }
    return token
  }, (err: unknown) => {
    if (err instanceof SessionRevokedError) forget()
    throw err
  })
}

function unavailable (cause: unknown): never {
  throw new StoreUnavailableError(because(cause))
}

/** The stored record is no longer `stale`: deleted, or refreshed by someone else. */
function moved (current: SpotifyToken | undefined, stale: SpotifyToken): boolean {
  return current === undefined || current.refreshes !== stale.refreshes
}

function pause (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export interface AuthenticatorOptions {
  store: TokenStore
  endpoint: TokenEndpoint
  /** Seconds before `expiresAt` from which a token counts as expired. */
  refreshMargin: number
  /** The store lock's TTL: longer than a token call may take (`timeout`). */
  lockTtlMs: number
  onRefresh: ((sessionId: string, token: SpotifyToken) => Promise<void> | void) | undefined
  log: FastifyBaseLogger
}

/**
 * Hands out a valid token for a session, refreshing it first when it is within
 * `refreshMargin` of expiry, the way SpotifyAPI-NET's
 * AuthorizationCodeAuthenticator does. Concurrent callers of one session share
 * a single refresh.
 */
export class Authenticator {
  readonly #store: TokenStore
  readonly #endpoint: TokenEndpoint
  readonly #margin: number
  readonly #lockTtlMs: number
  readonly #onRefresh: AuthenticatorOptions['onRefresh']
  readonly #log: FastifyBaseLogger
  readonly #inflight = new Map<string, Promise<SpotifyToken | undefined>>()
  readonly #peek: ((sessionId: string) => SpotifyToken | undefined) | undefined

  constructor (options: AuthenticatorOptions) {
    this.#store = options.store
    this.#peek = options.store.peek?.bind(options.store)
    this.#endpoint = options.endpoint
    this.#margin = options.refreshMargin
    this.#lockTtlMs = options.lockTtlMs
    this.#onRefresh = options.onRefresh
    this.#log = options.log
  }

  /** True when `token` can be used without a refresh. */
  isFresh (token: SpotifyToken): boolean {
    return (token.expiresAt - this.#margin) * 1000 > Date.now()
  }

  /**
   * The session's token when the store can say synchronously (`peek`) that
   * it is there and fresh; `undefined` means "ask `tokenFor`", never "no
   * session".
   */
  freshNow (sessionId: string): SpotifyToken | undefined {
    const token = this.#peek?.(sessionId)
    return token !== undefined && this.isFresh(token) ? token : undefined
  }

  /** The session's valid token, refreshed if needed; `undefined` without a session. */
  tokenFor (sessionId: string): Promise<SpotifyToken | undefined> {
    // Every proxied or guarded request passes here: one promise step on top
    // of the store's, no async frames.
    return this.#get(sessionId).then((token) =>
      token === undefined || this.isFresh(token) ? token : this.#refresh(sessionId, token), unavailable)
  }

  /**
   * After Spotify answered 401 to `rejectedAccessToken`: refresh, unless
   * someone else already replaced that token, in which case use theirs.
   */
  async renew (sessionId: string, rejectedAccessToken: string): Promise<SpotifyToken | undefined> {
    const token = await this.read(sessionId)
    if (token === undefined || token.accessToken !== rejectedAccessToken) return token
    return await this.#refresh(sessionId, token)
  }

  /** Refreshes now, whatever the expiry; joins a refresh already running. */
  async refreshNow (sessionId: string): Promise<SpotifyToken | undefined> {
    const token = await this.read(sessionId)
    if (token === undefined) return undefined
    return await this.#refresh(sessionId, token)
  }

  /** Reads the store, turning its failures into a 503. */
  read (sessionId: string): Promise<SpotifyToken | undefined> {
    return this.#get(sessionId).then(undefined, unavailable)
  }

  /** The store's answer; a store that throws instead of rejecting is made to reject. */
  #get (sessionId: string): Promise<SpotifyToken | undefined> {
    try {
      return this.#store.get(sessionId)
    } catch (cause) {
      return Promise.reject(cause)
    }
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
   * holder of the store's lock refreshes; the others poll the store for the
   * new version, trying for the lock on each round so that a holder that died
   * only costs the lock's TTL. Past the TTL plus a margin without news: 503.
   */
  async #refreshLocked (sessionId: string, stale: SpotifyToken): Promise<SpotifyToken | undefined> {
    const lock = this.#store.lock as NonNullable<TokenStore['lock']>
    const deadline = Date.now() + this.#lockTtlMs + LOCK_MARGIN_MS
    for (;;) {
      const release = await storeCall(() => lock.call(this.#store, sessionId, this.#lockTtlMs))
      if (release !== undefined) {
        try {
          return await this.#refreshIfStill(sessionId, stale)
        } finally {
          await release().catch((err: unknown) => this.#log.warn({ err }, 'fastify-spotify-auth: lock release failed'))
        }
      }
      if (Date.now() > deadline) throw new RefreshBusyError()
      await pause(POLL_MS + Math.random() * POLL_MS)
      const current = await this.read(sessionId)
      if (moved(current, stale)) return current
    }
  }

  /**
   * Re-reads the store before calling Spotify: a caller that read `stale`
   * before someone else's refresh landed (another process, or a refresh of
   * this one that finished before this caller's read resolved) must not burn
   * the refresh token again.
   */
  async #refreshIfStill (sessionId: string, stale: SpotifyToken): Promise<SpotifyToken | undefined> {
    const current = await this.read(sessionId)
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
        // deleted, and its token is good.
        await storeCall(() => this.#store.delete(sessionId, stale))
        const current = await this.read(sessionId)
        if (current !== undefined) return current
        throw new SessionRevokedError(because(err))
      }
      // The session is kept for when the configuration is fixed.
      throw clientRefused(err)
    }
    const written = await storeCall(() => this.#store.update(sessionId, stale, next))
    if (!written) {
      // Logged out meanwhile, or another process refreshed first: the store
      // has the truth, and a logout must not be undone by writing back.
      return await this.read(sessionId)
    }
    await this.#notify(sessionId, next)
    return next
  }

  async #notify (sessionId: string, token: SpotifyToken): Promise<void> {
    if (this.#onRefresh === undefined) return
    try {
      await this.#onRefresh(sessionId, token)
    } catch (err) {
      this.#log.error({ err }, 'fastify-spotify-auth: onRefresh failed')
    }
  }
}
