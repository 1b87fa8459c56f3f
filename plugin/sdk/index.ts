/**
 * Spotify's official SDK (`@spotify/web-api-ts-sdk`) on the server, as a
 * session or as the app, through the plugin's token handling.
 *
 * @module fastify-spotify-auth/sdk
 */
import { SpotifyApi, type AccessToken, type IAuthStrategy, type RequestImplementation, type SdkOptions } from '@spotify/web-api-ts-sdk'
import { NoSessionError } from '../errors.js'
import type { SpotifyFetch } from '../web-api/fetch-client.js'

/** Where the SDK sends every call; the handle's `fetch` sends it to the plugin's `apiUrl` instead. */
const SDK_ROOT = 'https://api.spotify.com/v1/'

/**
 * `SdkOptions` of `@spotify/web-api-ts-sdk`. A `fetch` of yours carries the
 * calls instead of the plugin's own connections, after the plugin's checks,
 * with the URL already moved to `apiUrl` and the handle's bearer.
 */
export type SpotifySdkOptions = SdkOptions

/** A token as the SDK adapter needs it. */
export interface SpotifySdkToken {
  /** The bearer token the SDK's calls carry. */
  readonly accessToken: string
  /** Unix time in seconds. */
  readonly expiresAt: number
}

/**
 * What `spotifySdk` builds on: `request.spotify`, `fastify.spotify.session(id)`
 * or `fastify.spotify.app`, or anything with their `fetch` and `getToken`.
 */
export interface SpotifySdkSource {
  /** The handle's fetch for the Web API: it adds the bearer, renews it after a 401, and honours the app's rate-limit window. */
  readonly fetch: SpotifyFetch
  /** The handle's valid token (refreshed first when needed), or `null` without a session. */
  getToken (): Promise<SpotifySdkToken | null>
}

function sdkToken (token: SpotifySdkToken): AccessToken {
  // The refresh token stays in the store: the plugin refreshes, never the SDK.
  return {
    access_token: token.accessToken,
    token_type: 'Bearer',
    expires_in: Math.max(0, token.expiresAt - Math.floor(Date.now() / 1000)),
    refresh_token: '',
    expires: token.expiresAt * 1000
  }
}

/**
 * The SDK's access-token strategy, backed by the handle: it asks for the
 * handle's valid token (refreshed first when near expiry, one refresh for
 * concurrent callers, across processes with the store's lock). It never
 * talks to the accounts service itself, and the token it hands the SDK is
 * not what authenticates the calls: the handle's `fetch` adds its own.
 */
class PluginStrategy implements IAuthStrategy {
  readonly #source: SpotifySdkSource
  #detached = false

  constructor (source: SpotifySdkSource) {
    this.#source = source
  }

  setConfiguration (): void {}

  async getOrCreateAccessToken (): Promise<AccessToken> {
    const token = this.#detached ? null : await this.#source.getToken()
    if (token === null) throw new NoSessionError()
    return sdkToken(token)
  }

  async getAccessToken (): Promise<AccessToken | null> {
    const token = this.#detached ? null : await this.#source.getToken()
    return token === null ? null : sdkToken(token)
  }

  /**
   * `sdk.logOut()`: this SDK instance stops using the session; its calls
   * answer 401 from then on. The session itself lives on (end it with
   * `request.spotify.logout()` or the handle's `end()`).
   */
  removeAccessToken (): void {
    this.#detached = true
  }
}

/**
 * The SDK's URL as the handle's `fetch` takes it: what follows
 * `https://api.spotify.com/v1/`, relative to `{apiUrl}/v1/` (dot segments
 * resolved, so `../x` leaves it and is refused); any other URL as it is.
 */
function webApiInput (input: Parameters<RequestImplementation>[0]): string {
  // The SDK passes the URL as a string.
  const url = new URL(String(input))
  return url.href.startsWith(SDK_ROOT) ? `./${url.href.slice(SDK_ROOT.length)}` : url.href
}

/**
 * Spotify's official SDK (`@spotify/web-api-ts-sdk`) acting as a session
 * (`request.spotify`, `fastify.spotify.session(id)`) or as the app
 * (`fastify.spotify.app`). Its calls go through the handle's `fetch`, and so
 * through the plugin's one call policy: to `{apiUrl}/v1/` only (another URL
 * rejects with `FST_SPOTIFY_FOREIGN_URL` before the bearer leaves), no
 * redirect followed, the app's rate-limit window honoured and opened
 * (`FST_SPOTIFY_RATE_LIMITED`), one renewal and one more try after a 401 (a
 * second 401, or one to a token too young to renew, reaches the SDK as it
 * came).
 *
 * Without a session (or after it ended), calls reject with
 * `FST_SPOTIFY_NO_SESSION`; when Spotify cannot be reached, with
 * `FST_SPOTIFY_UPSTREAM_ERROR` / `FST_SPOTIFY_UPSTREAM_TIMEOUT`. Other
 * statuses are the SDK's business (`responseValidator`, `errorHandler`).
 */
export function spotifySdk (source: SpotifySdkSource, options: SpotifySdkOptions = {}): SpotifyApi {
  if (typeof source?.fetch !== 'function' || typeof source.getToken !== 'function') {
    throw new TypeError('fastify-spotify-auth/sdk: spotifySdk needs request.spotify, fastify.spotify.session(id) or fastify.spotify.app')
  }
  const transport = options.fetch
  const fetch: RequestImplementation = (input, init = {}) =>
    source.fetch(webApiInput(input), transport === undefined ? init : { ...init, transport: (url, sent) => transport(url, sent) })
  return new SpotifyApi(new PluginStrategy(source), { ...options, fetch })
}

export type { SpotifyApi } from '@spotify/web-api-ts-sdk'
