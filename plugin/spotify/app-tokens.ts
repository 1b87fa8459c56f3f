import { clientRefused, TokenRefusedError, type AppToken, type TokenEndpoint } from './token-endpoint.js'

/**
 * The app's own token (Client Credentials), for Web API calls that act for
 * no user: fetched on first use, kept, fetched again `refreshMargin` before
 * it expires, one token call however many callers need it at once.
 */
export class AppTokens {
  readonly #endpoint: TokenEndpoint
  readonly #margin: number
  readonly #cooldown: number
  #token: AppToken | undefined
  #obtainedAt = 0
  #pending: Promise<AppToken> | undefined

  constructor (endpoint: TokenEndpoint, refreshMargin: number, refreshCooldown: number) {
    this.#endpoint = endpoint
    this.#margin = refreshMargin
    this.#cooldown = refreshCooldown
  }

  /** A valid app token. */
  get (): Promise<AppToken> {
    const token = this.#token
    if (token !== undefined && token.expiresAt * 1000 - this.#margin > Date.now()) return Promise.resolve(token)
    return this.#fetch()
  }

  /**
   * After Spotify answered 401 to `rejected`: a new token, unless someone
   * already replaced it, or it is younger than `refreshCooldown` (then it
   * comes back as it is, and the caller passes the 401 on).
   */
  renewed (rejected: string): Promise<AppToken> {
    const token = this.#token as AppToken
    if (token.accessToken !== rejected || this.#obtainedAt + this.#cooldown > Date.now()) return Promise.resolve(token)
    return this.#fetch()
  }

  #fetch (): Promise<AppToken> {
    this.#pending ??= this.#endpoint.clientCredentials().then((token) => {
      this.#token = token
      this.#obtainedAt = Date.now()
      return token
    }, (err: unknown) => {
      // A refused client is the server's configuration: 502, as for users.
      throw err instanceof TokenRefusedError ? clientRefused(err) : err
    }).finally(() => { this.#pending = undefined })
    return this.#pending
  }
}
