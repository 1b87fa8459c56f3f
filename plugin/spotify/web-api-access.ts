import type { RateLimitGate } from './rate-limit.js'

/**
 * What a session handle or the app's access lends the SDK adapter
 * (`fastify-spotify-auth/sdk`): where the Web API is and how a bearer may
 * reach it. On a symbol, so that it stays off the public contract.
 */
export const kWebApiAccess = Symbol('fastify-spotify-auth.web-api-access')

export interface WebApiAccess {
  /** `{apiUrl}` without the `/v1`. */
  readonly apiUrl: string
  /** Milliseconds for every upstream call (`options.timeout`). */
  readonly timeout: number
  /** Whether a URL lies under `{apiUrl}/v1/`, the only place a bearer may go. */
  readonly underWebApi: (url: URL) => boolean
  /** The app's rate-limit window, which the SDK's calls honour and open like every other call. */
  readonly gate: RateLimitGate
}

/** A token as the SDK adapter needs it. */
export interface LentToken {
  readonly accessToken: string
  /** Unix time in seconds. */
  readonly expiresAt: number
}

/** A handle's bearer, with where it may go. */
export interface LentAccess extends WebApiAccess {
  /** The valid token (refreshed first when needed), or `null` without a session. */
  token (): Promise<LentToken | null>
  /**
   * After a 401 to `rejected`: the token that replaced it (refreshed now,
   * single-flight, unless someone already did), `rejected`'s own record when
   * it must not be refreshed again, or `null` without a session.
   */
  renewed (rejected: string): Promise<LentToken | null>
}

/** A handle (`request.spotify`, `fastify.spotify.session(id)`, `fastify.spotify.app`) that lends its access. */
export interface LendsWebApiAccess {
  readonly [kWebApiAccess]: LentAccess
}
