/** An application registered with the emulated accounts service. */
export interface EmulatorClient {
  /** The app's client id, as `/authorize` and `/api/token` receive it. */
  clientId: string
  /** Its client secret, checked by `/api/token`. */
  clientSecret: string
  /** Exact strings `/authorize` and `/api/token` compare `redirect_uri` with. */
  redirectUris: string[]
  /** Shown on the consent page; defaults to the client id. */
  name?: string
}

/**
 * Spotify's quota modes. A new app is in Development Mode: Premium owner, at
 * most five allow-listed users, and a reduced Web API. Extended Quota Mode
 * keeps the older endpoints and fields.
 */
export type EmulatorMode = 'development' | 'extended'

/** Options of {@link createSpotifyEmulator}. */
export interface EmulatorOptions {
  /** The app's quota mode. Default `'development'`. */
  mode?: EmulatorMode
  /**
   * Fixture user ids registered under "User Management"; in Development Mode
   * other users get 403 "User not registered in the Developer Dashboard".
   * At most 5. Default: the first five fixture users (all but `frank`).
   */
  allowList?: string[]
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string
  /** Port to listen on. Default `0` (any free port). */
  port?: number
  /** Registered applications. Default: one client with `DEFAULT_CLIENT_ID`, `DEFAULT_CLIENT_SECRET` and `http://127.0.0.1:5543/callback`. */
  clients?: EmulatorClient[]
  /**
   * `true`: `/authorize` redirects straight back with a code for the first
   * fixture user; a string: for that user id. Default `false`: the consent page.
   */
  autoApprove?: boolean | string
  /** Lifetime of access tokens in seconds. Default 3600. */
  accessTokenTtl?: number
  /** Lifetime of authorization codes in seconds. Default 600. */
  codeTtl?: number
  /**
   * Lifetime of a refresh token in seconds, counted from the user's
   * authorization; refreshing does not extend it. Default: six calendar months.
   */
  refreshTokenTtl?: number
  /** Refresh responses carry a new refresh token and the old one stops working. Default `false`. */
  rotateRefreshTokens?: boolean
  /**
   * How many of the latest `/v1` requests `control.apiRequests` keeps (a
   * ring: the oldest goes first), so that a long-running emulator (the demo)
   * does not grow. Default 100.
   */
  recordRequests?: number
  /** Keep request bodies in `control.apiRequests` too. Default `false`: bodies read `''`. */
  recordBodies?: boolean
  /**
   * Without rotation, refresh responses carry no `refresh_token` field, as
   * Spotify does. `false`: they repeat the current one. Default `true`.
   */
  omitRefreshToken?: boolean
  /** Refresh responses carry no `scope` field. Default `true`. */
  omitRefreshScope?: boolean
  /** Fastify's `logger` option. Default `false`. */
  logger?: boolean | object
  /** The clock, in milliseconds. Default `Date.now`; tests pass their own to move time. */
  now?: () => number
}

/** A successful token response, as `POST /api/token` sends it. */
export interface EmulatorTokenResponse {
  /** The bearer token for `/v1` calls. */
  readonly access_token: string
  /** Always `Bearer`. */
  readonly token_type: 'Bearer'
  /** The granted scopes, space-separated. */
  readonly scope: string
  /** Seconds until the access token expires. */
  readonly expires_in: number
  /** The token a refresh presents. */
  readonly refresh_token: string
}

/** A `client_credentials` token response: no user, so no scope and no refresh token. */
export interface EmulatorAppTokenResponse {
  /** The bearer token for `/v1` calls, as the app. */
  readonly access_token: string
  /** Always `Bearer`. */
  readonly token_type: 'Bearer'
  /** Seconds until it expires. */
  readonly expires_in: number
}

/** Calls seen: token calls by grant type (failed ones included), and `/v1` calls. */
export interface EmulatorCounters {
  /** Code exchanges (`grant_type=authorization_code`). */
  authorization_code: number
  /** Refreshes (`grant_type=refresh_token`). */
  refresh_token: number
  /** App tokens (`grant_type=client_credentials`). */
  client_credentials: number
  /** Requests under `/v1`. */
  api: number
}

/** One `/v1` request as the emulator received it. */
export interface EmulatorApiRequest {
  /** The HTTP method. */
  readonly method: string
  /** The path without the query string. */
  readonly path: string
  /** The raw query string without the leading `?`; `''` when there is none. */
  readonly query: string
  /** The request headers, as Node parsed them (lower-case names). */
  readonly headers: Record<string, string | string[] | undefined>
  /** The raw request body as UTF-8 with `recordBodies`; `''` when there is none or bodies are not recorded. */
  readonly body: string
}

/** Switches and probes for tests: what the emulator saw, and how it should misbehave next. */
export interface EmulatorControl {
  /** `POST /api/token` calls by `grant_type` (failed ones included) and `/v1` calls. A live object. */
  readonly counters: EmulatorCounters
  /** Sets every counter back to 0, `apiCallsByEndpoint` included. */
  resetCounters(): void
  /**
   * `/v1` calls by endpoint since the last `resetCounters()`, keyed
   * `METHOD /route` (`'GET /v1/playlists/:playlist_id/items'`); `unknown`
   * for a path no route matched. A fresh copy. Also served as JSON by
   * `GET /emulator/counters`, for a process that only has the URL.
   */
  readonly apiCallsByEndpoint: Readonly<Record<string, number>>
  /**
   * Spotify's quota per client id from now on: at most `calls` counted `/v1`
   * calls over a rolling `windowSeconds`; past it, 429 with
   * `reason: QUOTA_EXCEEDED` and a `Retry-After` lasting until the oldest
   * counted call leaves the window. Default: 100 000 calls over 24 hours.
   */
  setQuota(calls: number, windowSeconds: number): void
  /** Forgets the calls counted against the quota. */
  resetQuota(): void
  /** Every `/v1` request, newest last. */
  readonly apiRequests: ReadonlyArray<EmulatorApiRequest>
  /** Forgets the recorded `/v1` requests. */
  clearApiRequests(): void
  /** The `rotateRefreshTokens` option, from now on. */
  setRotateRefreshTokens(on: boolean): void
  /** The `omitRefreshToken` option, from now on. */
  setOmitRefreshToken(on: boolean): void
  /** The `omitRefreshScope` option, from now on. */
  setOmitRefreshScope(on: boolean): void
  /** Lifetime in seconds of refresh tokens from authorizations made from now on. */
  setRefreshTokenTtl(seconds: number): void
  /** `false`: the app owner's Premium lapses; in Development Mode every `/v1` call answers 403. */
  setOwnerPremium(on: boolean): void
  /** Puts a fixture user on the app's allow-list. Throws beyond 5 users in Development Mode. */
  allowUser(userId: string): void
  /** Takes a user off the allow-list; in Development Mode their tokens get 403 on every `/v1` call. */
  disallowUser(userId: string): void
  /** Lifetime in seconds of access tokens issued from now on. */
  setAccessTokenTtl(seconds: number): void
  /** A later refresh with this token answers `invalid_grant` "Refresh token revoked", as Spotify does after the user removes the app; its access tokens stay valid until they expire. */
  revokeRefreshToken(refreshToken: string): void
  /** Every access token becomes unknown, and every refresh token revoked ("Refresh token revoked"). */
  revokeAll(): void
  /** Every access token issued so far expires now; the API answers 401 "The access token expired". */
  expireAccessTokens(): void
  /** The next `count` `POST /api/token` calls answer `status` (default 503) with an OAuth error body. */
  failTokenCalls(count: number, status?: number): void
  /** The next `count` `POST /api/token` calls never answer; `close()` drops their connections. */
  hangTokenCalls(count: number): void
  /**
   * Holds the next `POST /api/token` call (before it is handled) until
   * `release()`: `arrived` resolves once a call is being held. For races,
   * such as a logout while a refresh is on its way to Spotify.
   */
  holdTokenCalls(): {
    /** Resolves once a token call is being held. */
    readonly arrived: Promise<void>
    /** Lets the held call go on; released before a call arrived, the next one is not held. */
    release (): void
  }
  /** The next `count` `/v1` calls answer 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitApiCalls(count: number, retryAfterSeconds: number): void
  /** The next `count` `/v1` calls answer `status` in Spotify's error shape. */
  failApiCalls(count: number, status: number): void
  /** The next `count` `/v1` calls never answer; `close()` drops their connections. */
  hangApiCalls(count: number): void
  /** The next `count` `/v1` calls answer 401 even with a valid token, as after an upstream revocation. */
  unauthorizeApiCalls(count: number): void
  /** Extra headers on every `/v1` response from now on (replaces the previous set). */
  setApiResponseHeaders(headers: Record<string, string | string[]>): void
  /** Registers another application. Throws on an invalid or duplicate client. */
  addClient(client: EmulatorClient): void
  /** Mints an app token as the `client_credentials` grant would. */
  issueAppToken(clientId?: string): EmulatorAppTokenResponse
  /** Mints tokens as a code exchange would, without the browser flow. Throws on an unknown user, client or scope. */
  issueTokens(userId: string, scopes: string[], clientId?: string): EmulatorTokenResponse
  /**
   * The programmatic "Agree": validates `/authorize` parameters and returns
   * the redirect URL (`redirect_uri?code=…&state=…`). Throws an error whose
   * message starts with the OAuth error code on invalid parameters.
   */
  authorize(params: URLSearchParams | Record<string, string>, userId?: string): string
}

/** A running emulator. */
export interface SpotifyEmulator {
  /** `http://127.0.0.1:PORT`: serves `/authorize`, `/api/token` and `/v1/…`. */
  readonly url: string
  /** Same as `url`: pass it as the plugin's `accountsUrl`. */
  readonly accountsUrl: string
  /** Same as `url`: pass it as the plugin's `apiUrl`. */
  readonly apiUrl: string
  /** The quota mode it emulates (`options.mode`). */
  readonly mode: EmulatorMode
  /** Switches and probes for tests. */
  readonly control: EmulatorControl
  /** Stops the server, drops hanging requests and leaves nothing running. */
  close(): Promise<void>
}
