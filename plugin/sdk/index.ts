/**
 * Spotify's official SDK (`@spotify/web-api-ts-sdk`) on the server, as a
 * session or as the app, through the plugin's token handling.
 *
 * @module fastify-spotify-auth/sdk
 */
import { SpotifyApi, type AccessToken, type IAuthStrategy, type RequestImplementation, type SdkOptions } from '@spotify/web-api-ts-sdk'
import { ForeignUrlError, NoSessionError, UpstreamTimeoutError } from '../errors.js'
import { because, upstreamFailure } from '../failures.js'
import type { SpotifyApp } from '../index.js'
import type { SpotifySession } from '../session/session.js'
import { kWebApiAccess, type LendsWebApiAccess, type LentAccess, type LentToken } from '../spotify/web-api-access.js'

/** Where the SDK sends every call; the plugin's `apiUrl` takes its place. */
const SDK_ROOT = 'https://api.spotify.com/v1/'

/** `SdkOptions` of `@spotify/web-api-ts-sdk`; a `fetch` of yours is called after the adapter's own checks. */
export type SpotifySdkOptions = SdkOptions

/** What `spotifySdk` accepts: `request.spotify`, `fastify.spotify.session(id)` or `fastify.spotify.app`. */
export type SpotifySdkSource = SpotifySession | SpotifyApp

function accessOf (source: SpotifySdkSource): LentAccess {
  const access = (source as Partial<LendsWebApiAccess>)[kWebApiAccess]
  if (access === undefined) throw new TypeError('fastify-spotify-auth/sdk: spotifySdk needs request.spotify, fastify.spotify.session(id) or fastify.spotify.app')
  return access
}

function sdkToken (token: LentToken): AccessToken {
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
 * The SDK's access-token strategy, backed by the plugin: each call asks the
 * handle for its valid token (refreshed first when near expiry, one refresh
 * for concurrent callers, across processes with the store's lock). It never
 * talks to the accounts service itself.
 */
class PluginStrategy implements IAuthStrategy {
  readonly #access: LentAccess
  #detached = false

  constructor (access: LentAccess) {
    this.#access = access
  }

  setConfiguration (): void {}

  async getOrCreateAccessToken (): Promise<AccessToken> {
    const token = this.#detached ? null : await this.#access.token()
    if (token === null) throw new NoSessionError()
    return sdkToken(token)
  }

  async getAccessToken (): Promise<AccessToken | null> {
    const token = this.#detached ? null : await this.#access.token()
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

/** The Web API URL the SDK asked for, moved to `apiUrl`, dot segments resolved. */
function webApiUrl (input: Parameters<RequestImplementation>[0], apiUrl: string): URL {
  // The SDK passes the URL as a string.
  const url = new URL(String(input))
  return url.href.startsWith(SDK_ROOT) ? new URL(`${apiUrl}/v1/${url.href.slice(SDK_ROOT.length)}`) : url
}

function bearerOf (headers: Headers): string | undefined {
  const value = headers.get('authorization')
  return value?.startsWith('Bearer ') === true ? value.slice('Bearer '.length) : undefined
}

/**
 * The fetch behind the SDK: it sends the SDK's calls to `{apiUrl}/v1/`,
 * refuses any other URL before the bearer leaves (`FST_SPOTIFY_FOREIGN_URL`),
 * follows no redirect, times out after `timeout`, honours the app's
 * rate-limit window (`FST_SPOTIFY_RATE_LIMITED`), and after a 401 lets the
 * plugin refresh once and retries once. A second 401, or a 401 to a token
 * too young to be refreshed again, goes back to the SDK as it came.
 */
function sdkFetch (access: LentAccess, send: RequestImplementation): RequestImplementation {
  async function call (url: URL, init: RequestInit, headers: Headers): Promise<Response> {
    // Spotify's rate limit is the app's: while a 429's Retry-After runs, no
    // call goes out, whichever client (proxy, got, SDK) would make it.
    const blocked = access.gate.blocked()
    if (blocked !== undefined) throw blocked
    let response: Response
    try {
      const sent = await send(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(access.timeout) })
      // Read here, under the timeout and the error mapping: left to the
      // SDK's deserializer, a body that stalls or breaks off would be a raw
      // abort (a 500), not Spotify's failure.
      const body = sent.body === null ? null : await sent.arrayBuffer()
      response = new Response(body, { status: sent.status, statusText: sent.statusText, headers: sent.headers })
    } catch (cause) {
      if ((cause as { name?: unknown }).name === 'TimeoutError') throw new UpstreamTimeoutError(because(cause))
      throw upstreamFailure((cause as { cause?: unknown }).cause ?? cause, 'the Web API')
    }
    if (response.status === 429) await access.gate.observe(response.headers.get('retry-after') ?? undefined)
    return response
  }
  return async (input, init = {}) => {
    const url = webApiUrl(input, access.apiUrl)
    if (!access.underWebApi(url)) throw new ForeignUrlError()
    const headers = new Headers(init.headers)
    const response = await call(url, init, headers)
    const used = bearerOf(headers)
    if (response.status !== 401 || used === undefined) return response
    const renewed = await access.renewed(used)
    if (renewed === null) throw new NoSessionError()
    if (renewed.accessToken === used) return response
    headers.set('authorization', `Bearer ${renewed.accessToken}`)
    return await call(url, init, headers)
  }
}

/**
 * Spotify's official SDK (`@spotify/web-api-ts-sdk`) acting as a session
 * (`request.spotify`, `fastify.spotify.session(id)`) or as the app
 * (`fastify.spotify.app`): the plugin supplies and refreshes the token, and
 * the calls go to the plugin's `apiUrl`.
 *
 * Without a session (or after it ended), calls reject with
 * `FST_SPOTIFY_NO_SESSION`; when Spotify cannot be reached, with
 * `FST_SPOTIFY_UPSTREAM_ERROR` / `FST_SPOTIFY_UPSTREAM_TIMEOUT`. Other
 * statuses are the SDK's business (`responseValidator`, `errorHandler`).
 */
export function spotifySdk (source: SpotifySdkSource, options: SpotifySdkOptions = {}): SpotifyApi {
  const access = accessOf(source)
  const send = options.fetch ?? ((input, init) => fetch(input, init))
  return new SpotifyApi(new PluginStrategy(access), { ...options, fetch: sdkFetch(access, send) })
}

export type { SpotifyApi } from '@spotify/web-api-ts-sdk'
