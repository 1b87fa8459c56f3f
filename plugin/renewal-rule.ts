/**
 * When a token is renewed, for a user's session and for the app's own token
 * alike: one rule, so that the two cannot drift apart.
 */
export class RenewalRule {
  readonly #margin: number
  readonly #cooldown: number

  /**
   * `margin`: ms before expiry from which a token counts as expired.
   * `cooldown`: ms after a token was obtained during which a 401 to it does
   * not renew it.
   */
  constructor (margin: number, cooldown: number) {
    this.#margin = margin
    this.#cooldown = cooldown
  }

  /** A token expiring at `expiresAt` (Unix seconds) can still be used as it is. */
  isFresh (expiresAt: number): boolean {
    return expiresAt * 1000 - this.#margin > Date.now()
  }

  /**
   * After the Web API answered 401 to `rejected`: renew `current` only if it
   * is still that token (otherwise someone already replaced it, and the
   * replacement is used) and older than the cooldown (a younger one would
   * come back just as refused: the caller passes the 401 on).
   */
  renewsAfter401 (rejected: string, current: { readonly accessToken: string, readonly obtainedAtMs: number }): boolean {
    return current.accessToken === rejected && current.obtainedAtMs + this.#cooldown <= Date.now()
  }
}
