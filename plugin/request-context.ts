import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Got } from 'got'
import { forgetting, type Authenticator } from './authenticator.js'
import { sessionClient } from './client.js'
import { NoSessionError } from './errors.js'
import type { SessionCookie } from './session-cookie.js'
import { storeCall } from './store/call.js'
import type { SpotifyToken, TokenStore } from './store/types.js'

/** What `request.spotify` offers a handler. */
export interface SpotifyRequest {
  /** This request's session id, or `undefined` without a valid session cookie. */
  readonly sessionId: string | undefined
  /**
   * The session's valid token (refreshed first if needed), or `null` without a
   * session. Rejects with `FST_SPOTIFY_SESSION_REVOKED` when Spotify ended the
   * session, and with the 502/504/503 errors when Spotify or the store fail.
   */
  getToken (): Promise<SpotifyToken | null>
  /**
   * Refreshes the session's token now, whatever its expiry (one refresh even
   * when called concurrently), and resolves the new token, or `null` without
   * a session. Rejects like `getToken()`.
   */
  refresh (): Promise<SpotifyToken | null>
  /** A valid access token, or a rejection with `FST_SPOTIFY_NO_SESSION` (401). */
  accessToken (): Promise<string>
  /**
   * A `got` instance bound to `{apiUrl}/v1/` that authenticates every call as
   * this session, refreshes before expiry and retries once after a 401.
   */
  readonly api: Got
  /** Deletes the session from the store and clears the cookie. */
  logout (): Promise<void>
}

/** What every request context shares: built once per plugin instance. */
export interface ContextServices {
  store: TokenStore
  authenticator: Authenticator
  cookie: SessionCookie
  apiClient: Got
}

/**
 * Built lazily, on a handler's first use of `request.spotify`, so that routes
 * that never touch Spotify pay nothing.
 */
export class SpotifyRequestContext implements SpotifyRequest {
  readonly #services: ContextServices
  readonly #request: FastifyRequest
  readonly #reply: FastifyReply
  #sessionId: string | undefined | null = null
  #api: Got | undefined

  constructor (services: ContextServices, request: FastifyRequest, reply: FastifyReply) {
    this.#services = services
    this.#request = request
    this.#reply = reply
  }

  get sessionId (): string | undefined {
    if (this.#sessionId === null) this.#sessionId = this.#services.cookie.read(this.#request, this.#reply)
    return this.#sessionId
  }

  getToken (): Promise<SpotifyToken | null> {
    return this.#withSession((sessionId) => this.#services.authenticator.tokenFor(sessionId))
  }

  refresh (): Promise<SpotifyToken | null> {
    return this.#withSession((sessionId) => this.#services.authenticator.refreshNow(sessionId))
  }

  async #withSession (load: (sessionId: string) => Promise<SpotifyToken | undefined>): Promise<SpotifyToken | null> {
    const sessionId = this.sessionId
    if (sessionId === undefined) return null
    const token = await forgetting(load(sessionId), () => this.#forget())
    return token ?? null
  }

  async accessToken (): Promise<string> {
    const token = await this.getToken()
    if (token === null) throw new NoSessionError()
    return token.accessToken
  }

  get api (): Got {
    this.#api ??= sessionClient(this.#services.apiClient, this.#services.authenticator, this.sessionId, () => this.#forget())
    return this.#api
  }

  async logout (): Promise<void> {
    const sessionId = this.sessionId
    if (sessionId !== undefined) {
      // Delete first: when the store fails, the browser keeps its cookie and
      // can log out again, rather than leave a live session behind.
      await storeCall(() => this.#services.store.delete(sessionId))
    }
    this.#forget()
  }

  #forget (): void {
    this.#sessionId = undefined
    this.#services.cookie.clear(this.#reply)
  }
}
