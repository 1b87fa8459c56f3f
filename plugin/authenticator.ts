import type { FastifyBaseLogger } from 'fastify'
import { SessionRevokedError, UpstreamError } from './errors.js'
import { storeCall } from './store/call.js'
import type { SpotifyToken, TokenStore } from './store/types.js'
import { TokenRefusedError, type TokenEndpoint } from './token-endpoint.js'

export interface AuthenticatorOptions {
  store: TokenStore
  endpoint: TokenEndpoint
  refreshMarginMs: number
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
  readonly #marginMs: number
  readonly #onRefresh: AuthenticatorOptions['onRefresh']
  readonly #log: FastifyBaseLogger
  readonly #inflight = new Map<string, Promise<SpotifyToken | undefined>>()

  constructor (options: AuthenticatorOptions) {
    this.#store = options.store
    this.#endpoint = options.endpoint
    this.#marginMs = options.refreshMarginMs
    this.#onRefresh = options.onRefresh
    this.#log = options.log
  }

  /** True when `token` can be used without a refresh. */
  isFresh (token: SpotifyToken): boolean {
    return token.expiresAt - this.#marginMs > Date.now()
  }

  /** The session's valid token, refreshed if needed; `undefined` without a session. */
  async tokenFor (sessionId: string): Promise<SpotifyToken | undefined> {
    const token = await this.read(sessionId)
    if (token === undefined || this.isFresh(token)) return token
    return await this.#refresh(sessionId, token)
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
    return storeCall(() => this.#store.get(sessionId))
  }

  #refresh (sessionId: string, stale: SpotifyToken): Promise<SpotifyToken | undefined> {
    let pending = this.#inflight.get(sessionId)
    if (pending === undefined) {
      pending = this.#refreshOnce(sessionId, stale).finally(() => this.#inflight.delete(sessionId))
      this.#inflight.set(sessionId, pending)
    }
    return pending
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
        // session must not linger to fail again on every request.
        await storeCall(() => this.#store.delete(sessionId))
        throw new SessionRevokedError({ cause: err })
      }
      // invalid_client and the like: our configuration, not the user's
      // session, so the session is kept for when it is fixed.
      throw new UpstreamError(`the token endpoint refused the client (${err.error})`, { cause: err })
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
