/**
 * Spotify's official SDK (`@spotify/web-api-ts-sdk`) in a page, through the
 * plugin's proxy: the SDK's calls go to `{proxyPrefix}/…` on the page's own
 * origin with the session cookie, and the page never holds a token. A
 * browser module without dependencies (it imports nothing at run time, the
 * SDK included: the page passes its `SpotifyApi` class in).
 *
 * ```js
 * import { SpotifyApi } from '@spotify/web-api-ts-sdk'
 * import { proxiedSdk, nextPage } from 'fastify-spotify-auth/sdk/browser'
 * const sdk = proxiedSdk(SpotifyApi)
 * const page = await sdk.currentUser.playlists.playlists(20)
 * const more = await nextPage(sdk, page)
 * ```
 *
 * @module fastify-spotify-auth/sdk/browser
 */
import type { AccessToken, IAuthStrategy, RequestImplementation, SdkOptions, SpotifyApi } from '@spotify/web-api-ts-sdk'

/** Where the SDK sends every call. */
const SDK_ROOT = 'https://api.spotify.com/v1/'

/**
 * What the strategy hands the SDK: no token at all. The SDK insists on a
 * bearer header; the proxy never forwards the browser's `Authorization`,
 * and `proxyFetch` does not even send it.
 */
const NO_TOKEN: AccessToken = Object.freeze({
  access_token: 'held-by-the-server',
  token_type: 'Bearer',
  expires_in: 0,
  refresh_token: '',
  expires: Number.MAX_SAFE_INTEGER
})

/**
 * An access-token strategy that holds no token: the server keeps it and the
 * proxy adds it. It never redirects and never calls the accounts service.
 */
export function proxyAuthStrategy (): IAuthStrategy {
  return {
    setConfiguration () {},
    getOrCreateAccessToken: async () => NO_TOKEN,
    getAccessToken: async () => NO_TOKEN,
    removeAccessToken () {}
  }
}

/** `proxyPrefix` as a path without its trailing slash (`'/spotify'`). */
function prefixOf (proxyPrefix: string): string {
  // Without a prefix, `/v1//host/x` would become `//host/x`: another origin.
  if (!proxyPrefix.startsWith('/') || proxyPrefix.startsWith('//') || proxyPrefix === '/') throw new TypeError('fastify-spotify-auth/sdk/browser: proxyPrefix must be a path such as /spotify')
  return proxyPrefix.endsWith('/') ? proxyPrefix.slice(0, -1) : proxyPrefix
}

/**
 * A fetch for the SDK that sends `https://api.spotify.com/v1/…` to
 * `{proxyPrefix}/…` on the page's origin, with the session cookie
 * (`credentials: 'same-origin'`) and without `Authorization`. Any other URL
 * is refused without a request.
 */
export function proxyFetch (proxyPrefix = '/spotify', send: RequestImplementation = (input, init) => fetch(input, init)): RequestImplementation {
  const prefix = prefixOf(proxyPrefix)
  return async (input, init = {}) => {
    // The SDK passes the URL as a string; the parser resolves dot segments.
    const url = new URL(String(input))
    if (!url.href.startsWith(SDK_ROOT)) throw new TypeError(`fastify-spotify-auth/sdk/browser: refused to fetch ${url.origin}${url.pathname}: not the Web API`)
    const headers = new Headers(init.headers)
    headers.delete('authorization')
    return await send(`${prefix}/${url.href.slice(SDK_ROOT.length)}`, { ...init, headers, credentials: 'same-origin' })
  }
}

/** The SDK's own options, and where the plugin's proxy is. */
export interface ProxiedSdkOptions extends SdkOptions {
  /** The plugin's `proxyPrefix`. Default `'/spotify'`. */
  proxyPrefix?: string
}

/** A `SpotifyApi` whose calls go through the proxy: pass the SDK's `SpotifyApi` class. */
export function proxiedSdk<T extends SpotifyApi> (Api: new (auth: IAuthStrategy, config?: SdkOptions) => T, options: ProxiedSdkOptions = {}): T {
  const { proxyPrefix, ...config } = options
  return new Api(proxyAuthStrategy(), { ...config, fetch: proxyFetch(proxyPrefix, config.fetch) })
}

/**
 * The page `link` points at (a `next` or `previous`), fetched by the SDK
 * (its deserializer, validator and error handler), or `null` at the end.
 * Takes the proxy's rewritten links (`/spotify/me/playlists?offset=20`) and
 * the Web API's own (`https://api.spotify.com/v1/…`, with
 * `proxyRewriteLinks: false`).
 */
export async function follow<T> (sdk: SpotifyApi, link: string | null, proxyPrefix = '/spotify'): Promise<T | null> {
  if (link === null) return null
  const prefix = `${prefixOf(proxyPrefix)}/`
  const path = link.startsWith(prefix) ? link.slice(prefix.length) : link.startsWith(SDK_ROOT) ? link.slice(SDK_ROOT.length) : undefined
  if (path === undefined) throw new TypeError(`fastify-spotify-auth/sdk/browser: not a link of the Web API: ${link}`)
  return await sdk.makeRequest<T>('GET', path)
}

/** The page after `page` (its `next`), or `null` on the last one. */
export function nextPage<P extends {
  /** The link to the next page, `null` on the last. */
  next: string | null
}> (sdk: SpotifyApi, page: P, proxyPrefix?: string): Promise<P | null> {
  return follow<P>(sdk, page.next, proxyPrefix)
}

/** The page before `page` (its `previous`), or `null` on the first one. */
export function previousPage<P extends {
  /** The link to the previous page, `null` on the first. */
  previous: string | null
}> (sdk: SpotifyApi, page: P, proxyPrefix?: string): Promise<P | null> {
  return follow<P>(sdk, page.previous, proxyPrefix)
}
