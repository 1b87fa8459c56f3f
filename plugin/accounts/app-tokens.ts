import { RenewalRule } from '../renewal-rule.js'
import type { TokenSource } from '../web-api/call.js'
import { clientRefused, TokenRefusedError, type AppToken, type TokenEndpoint } from './token-endpoint.js'

/**
 * The app's own token (Client Credentials), for Web API calls that act for
 * no user: fetched on first use, kept, fetched again `refreshMargin` before
 * it expires, one token call however many callers need it at once. The
 * token source of `fastify.spotify.app`'s clients.
 */
export class AppTokens implements TokenSource {
  readonly #endpoint: TokenEndpoint
  readonly #rule: RenewalRule
  #token: AppToken | undefined
  #obtainedAt = 0
  #pending: Promise<AppToken> | undefined
  /** The call policy's partition: the app's token acts for no user, so its answers are app-wide. */
  readonly partition = 'app'

  constructor (endpoint: TokenEndpoint, refreshMargin: number, refreshCooldown: number) {
    this.#endpoint = endpoint
    this.#rule = new RenewalRule(refreshMargin, refreshCooldown)
  }

  /** A valid app token. */
  required (): Promise<AppToken> {
    const token = this.#token
    if (token !== undefined && this.#rule.isFresh(token.expiresAt)) return Promise.resolve(token)
    return this.#fetch()
  }

  /**
   * After Spotify answered 401 to `rejected`: a new token, unless someone
   * already replaced it, or it is younger than `refreshCooldown` (then it
   * comes back as it is, and the caller passes the 401 on).
   */
  renewed (rejected: string): Promise<AppToken> {
    const token = this.#token as AppToken
    if (!this.#rule.renewsAfter401(rejected, { accessToken: token.accessToken, obtainedAtMs: this.#obtainedAt })) return Promise.resolve(token)
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
