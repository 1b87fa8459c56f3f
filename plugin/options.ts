import type { FastifyRequest } from 'fastify'
import { InvalidOptionError } from './errors.js'
import type { SpotifyUser } from './accounts/profile.js'
import { redirectUriProblem } from './accounts/redirect-uri.js'
import { SCOPES } from './accounts/scopes.js'
import { memoryStore } from './store/memory.js'
import type { SpotifyToken, StoreFactory, TokenStore } from './store/types.js'

/** Options of the session cookie. */
export interface SessionCookieOptions {
  /** Default `spotify_session`. */
  name?: string
  /** Default: true when `redirectUri` is https. */
  secure?: boolean
  /**
   * Default `lax`: the callback arrives by a top-level cross-site GET.
   * `none` (a single-page app on another site) only with `secure`.
   */
  sameSite?: 'lax' | 'strict' | 'none'
  /** Default: the host that set it. */
  domain?: string
  /** Lifetime in seconds, as the cookie's own `Max-Age`. Default 30 days; `null` for a browser-session cookie. */
  maxAge?: number | null
}

/** How the plugin's routes show in a generated OpenAPI document. */
export interface RouteSchemaOptions {
  /** Tags of every route of the plugin. Default none. */
  tags?: readonly string[]
  /** Leave the plugin's routes out of the document. Default false. */
  hide?: boolean
}

/** Retries of `request.spotify.api` (the proxy never retries). */
export interface ApiRetryOptions {
  /** Retries of idempotent calls after 429 or 5xx. Default 2. */
  limit?: number
  /** Longest `Retry-After` honoured, in ms; a longer one fails at once. Default 10 000. */
  maxRetryAfter?: number
}

/** The bounds of the private response cache (the `cache` option). */
export interface ResponseCacheOptions {
  /** Most answers kept, over every session and the app. Default 1 000. */
  maxEntries?: number
  /** Most bytes kept (bodies and headers), over every session and the app. Default 16 MiB. */
  maxBytes?: number
  /**
   * Seconds past its freshness an answer is still served without asking
   * Spotify, when the caller's own request sends no `Cache-Control:
   * max-stale` (which wins). Never for an answer Spotify marked `no-cache`
   * or `must-revalidate`, never for a request with `no-cache`, `max-age=0`
   * or `no-store`; a session's own writes still drop its entries at once.
   * `0` revalidates every stale read. Default 5.
   */
  maxStale?: number
}

/** What `app.register(spotifyAuth, options)` takes. */
export interface SpotifyAuthOptions {
  /** Your Spotify app's client id. */
  clientId: string
  /** Your Spotify app's client secret. Never logged, never sent to a browser. */
  clientSecret: string
  /** Absolute URL registered in Spotify's dashboard; its path becomes the callback route. */
  redirectUri: string
  /** Cookie signing key of at least 32 characters, or several: the first signs, all verify. */
  secret: string | readonly string[]
  /** Scopes to request. Default none (public data only). */
  scopes?: readonly string[]
  /**
   * Scopes a login may add on request (`{loginPath}?scope=…`, and
   * `fastify.spotify.requireScopes`), asked for only when a page needs them.
   * Anything else in `?scope=` is ignored. Default none.
   */
  optionalScopes?: readonly string[]
  /**
   * Where tokens live: a store, or a function that builds one from the
   * plugin's context (`redisStore({ client })` is one). Default `memoryStore()`.
   */
  store?: TokenStore | StoreFactory
  /** Default `/login`. */
  loginPath?: string
  /** Default `/logout` (POST). */
  logoutPath?: string
  /** Default `/spotify`; `false` turns the proxy off. */
  proxyPrefix?: string | false
  /**
   * Path of `GET` answering the session's access token to the app's own
   * pages, for the Web Playback SDK; needs `streaming` in `scopes` or
   * `optionalScopes`. Default `false`: no such route.
   */
  playbackTokenPath?: string | false
  /**
   * Where the session routes live: `GET {sessionPath}` (who is logged in),
   * `GET {sessionPath}/devices`, `DELETE {sessionPath}/devices/:id` and
   * `POST {sessionPath}/devices/end-others`. Default `/session`; `false`
   * turns them off.
   */
  sessionPath?: string | false
  /**
   * A request header (such as `x-spotify-auth`) that every request to the
   * proxy, the session routes and the playback token route must carry,
   * with any value; without it: 403 `FST_SPOTIFY_MISSING_HEADER`. Pages of
   * other origins cannot send a custom header without a CORS preflight, so
   * this stops cross-site use of the session whatever the method and the
   * browser. Your page's requests must send it (fetch's `headers`). Default
   * none.
   */
  requireHeader?: string
  /** How the plugin's routes appear in an OpenAPI document (`@fastify/swagger`). */
  routeSchema?: RouteSchemaOptions
  /**
   * Largest request body the proxy reads, in bytes, once it knows the
   * request has a session. Default 393 216: the Web API's largest request, a
   * playlist cover (a JPEG of up to 256 KB, base64-encoded).
   */
  proxyBodyLimit?: number
  /**
   * Largest Web API response the plugin reads, in bytes, whichever client
   * asked (the proxy, the got clients, `fetch`, the SDK adapter); past it:
   * 502 `FST_SPOTIFY_UPSTREAM_TOO_LARGE`. Default 10 MiB.
   */
  proxyResponseLimit?: number
  /**
   * The proxy rewrites the `next`, `previous` and `href` links of JSON
   * responses from `{apiUrl}/v1/…` to `{proxyPrefix}/…`, so that a page can
   * follow them through the proxy. Default `true`.
   */
  proxyRewriteLinks?: boolean
  /**
   * Origins besides the app's own (the origin of `redirectUri`) whose pages
   * may send unsafe requests (POST, PUT, PATCH, DELETE) to the proxy and to
   * logout: say, a single-page app served from another origin.
   */
  trustedOrigins?: readonly string[]
  /**
   * Most live sessions one Spotify user may have; a login beyond it ends
   * that user's least recently used session. Needs a store with a per-user
   * index (both shipped stores have one). Default 10; `false`: no limit.
   */
  maxSessionsPerUser?: number | false
  /** Where the browser goes after login and logout. Default `/`. */
  successRedirect?: string
  /** PKCE S256 on the login. Default true. */
  pkce?: boolean
  /** Make Spotify show the consent dialog even when already approved. Default false. */
  showDialog?: boolean
  /** Milliseconds before expiry from which a token counts as expired. Default 60 000. */
  refreshMargin?: number
  /**
   * Milliseconds after a token was obtained during which a 401 from the Web
   * API does not refresh it again: the 401 is answered as it came. Spotify
   * does not refuse a token it has just issued, so a burst of 401s then is
   * not worth a burst of token calls. Default 5 000.
   */
  refreshCooldown?: number
  /** Default `https://accounts.spotify.com`. */
  accountsUrl?: string
  /** Default `https://api.spotify.com`. */
  apiUrl?: string
  /** Milliseconds allowed for every upstream call. Default 10 000. */
  timeout?: number
  /** The session cookie. */
  cookie?: SessionCookieOptions
  /** Retries of `request.spotify.api`. */
  retry?: ApiRetryOptions
  /**
   * The private response cache of every Web API client: answers to GETs,
   * per session (the app's own calls app-wide), kept as Spotify's
   * `Cache-Control` allows a private cache (served a few seconds stale as
   * `maxStale` allows), forgotten after a session's own writes. `false`
   * turns it off (identical reads in flight are still merged). Default
   * `{ maxEntries: 1000, maxBytes: 16 MiB, maxStale: 5 }`.
   */
  cache?: ResponseCacheOptions | false
  /**
   * Who renders the errors of the plugin's own routes (login, callback,
   * logout, proxy). `'spotify'` (default): JSON in the Web API's error shape.
   * `'app'`: the app's error handler, which gets each error with its stable
   * `code` and `statusCode`.
   */
  errorHandler?: 'spotify' | 'app'
  /**
   * Called after a successful login, before the browser gets its cookie, with
   * the new session's id and token. A throw fails the login and deletes the
   * session.
   */
  onLogin?: (request: FastifyRequest, login: LoginEvent) => Promise<void> | void
  /**
   * Called after every successful refresh (`event.outcome: 'refreshed'`,
   * with the new token), and when Spotify refuses a session's refresh token
   * for good (`outcome: 'ended'`, with the session's last token and the
   * `reason`: its six months ran out, or the user revoked the app): the
   * session has been deleted. A throw is logged, never fails the request.
   */
  onRefresh?: (sessionId: string, token: SpotifyToken, event: RefreshEvent) => Promise<void> | void
}

/**
 * Why Spotify refused a session's refresh token (`invalid_grant`):
 * `'refresh-token-expired'` when its six months from the user's
 * authorization ran out (prompt the user to reconnect), otherwise
 * `'refresh-token-revoked'` (the user removed the app's access, or Spotify
 * no longer knows the token).
 */
export type RefreshTokenEnd = 'refresh-token-expired' | 'refresh-token-revoked'

/** What `onRefresh` learns besides the session id and token. */
export type RefreshEvent =
  | {
    /** The token was refreshed and is stored. */
    readonly outcome: 'refreshed'
  }
  | {
    /** Spotify refused the refresh token: the session is deleted, and the user must log in again. */
    readonly outcome: 'ended'
    /** Why, as Spotify told it. */
    readonly reason: RefreshTokenEnd
  }

/** What `onLogin` learns of a login. */
export interface LoginEvent {
  /** The new session's id: keep it to reach the session later, outside a request. */
  readonly sessionId: string
  /** The tokens the login obtained, as the store now holds them. */
  readonly token: SpotifyToken
  /** The user, as `GET /v1/me` described them at login: link `user.id` to your own account. */
  readonly user: SpotifyUser
}

/** Options after validation, with every default applied: plain data. */
export interface ResolvedOptions {
  clientId: string
  clientSecret: string
  redirectUri: string
  callbackPath: string
  secrets: string[]
  scopes: string[]
  optionalScopes: string[]
  store: TokenStore | StoreFactory
  loginPath: string
  logoutPath: string
  proxyPrefix: string | false
  playbackTokenPath: string | false
  sessionPath: string | false
  /** Lower-case. */
  requireHeader: string | undefined
  routeSchema: { tags: string[], hide: boolean }
  proxyBodyLimit: number
  proxyResponseLimit: number
  proxyRewriteLinks: boolean
  cache: Required<ResponseCacheOptions> | false
  /** The app's origin and `trustedOrigins`. */
  allowedOrigins: ReadonlySet<string>
  maxSessionsPerUser: number
  successRedirect: string
  pkce: boolean
  showDialog: boolean
  refreshMargin: number
  refreshCooldown: number
  accountsUrl: string
  apiUrl: string
  timeout: number
  cookie: Required<Omit<SessionCookieOptions, 'domain'>> & { domain: string | undefined }
  retry: Required<ApiRetryOptions>
  errorHandler: 'spotify' | 'app'
  onLogin: SpotifyAuthOptions['onLogin']
  onRefresh: SpotifyAuthOptions['onRefresh']
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function fail (message: string): never {
  throw new InvalidOptionError(message)
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function requiredString (value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(`options.${name} must be a non-empty string`)
  return value
}

function optionalBoolean (value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(`options.${name} must be a boolean`)
  return value
}

function optionalNumber (value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    fail(`options.${name} must be a number of at least ${min}`)
  }
  return value
}

function optionalFunction<F> (value: unknown, name: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') fail(`options.${name} must be a function`)
  return value as F | undefined
}

function routePath (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !/^\/[^?#\s]*$/.test(value) || (value.length > 1 && value.endsWith('/'))) {
    fail(`options.${name} must be a path such as ${fallback} (leading /, no trailing /, no query)`)
  }
  return value
}

function baseUrl (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    fail(`options.${name} must be an absolute http(s) URL without query`)
  }
  return url.href.replace(/\/+$/, '')
}

function redirectUriOf (value: unknown): URL {
  const raw = requiredString(value, 'redirectUri')
  const problem = redirectUriProblem(raw)
  if (problem !== undefined) fail(`options.redirectUri ${problem}`)
  return new URL(raw)
}

function secretsOf (value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0) fail('options.secret must be a string or a non-empty array of strings')
  for (const secret of list) {
    if (typeof secret !== 'string' || secret.length < 32) fail('options.secret must be at least 32 characters')
  }
  return [...list] as string[]
}

function scopesOf (value: unknown, name: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every((scope) => typeof scope === 'string')) {
    fail(`${name} must be an array of scope names such as playlist-read-private`)
  }
  const unknown = (value as string[]).find((scope) => !SCOPES.has(scope))
  if (unknown !== undefined) fail(`${name} has ${JSON.stringify(unknown.slice(0, 64))}, which is not a scope Spotify documents`)
  return [...new Set(value as string[])]
}

const STORE_METHODS = ['get', 'set', 'update', 'delete'] as const

/** A store, or a factory whose store is checked once it is built (`checkedStore`). */
function storeOf (value: unknown): TokenStore | StoreFactory {
  if (value === undefined) return memoryStore()
  if (typeof value === 'function') return value as StoreFactory
  return checkedStore(value, 'options.store')
}

/** `value` if it implements the store contract; `what` names it in the message. */
export function checkedStore (value: unknown, what: string): TokenStore {
  const store = value as Record<string, unknown> | null
  if (typeof store !== 'object' || store === null || !STORE_METHODS.every((name) => typeof store[name] === 'function')) {
    fail(`${what} must implement get, set, update and delete (see TokenStore)`)
  }
  return value as TokenStore
}

function allowedOriginsOf (value: unknown, redirect: URL): Set<string> {
  if (value === undefined) return new Set([redirect.origin])
  if (!Array.isArray(value)) fail('options.trustedOrigins must be an array of origins such as https://app.example')
  for (const origin of value) {
    if (typeof origin !== 'string' || !URL.canParse(origin) || new URL(origin).origin !== origin) {
      fail('options.trustedOrigins must be an array of origins such as https://app.example (scheme, host and port; no path)')
    }
  }
  return new Set([redirect.origin, ...value as string[]])
}

function wholeNumber (value: unknown, name: string, fallback: number): number {
  const n = optionalNumber(value, name, fallback, 1)
  if (!Number.isInteger(n)) fail(`options.${name} must be an integer`)
  return n
}

function errorHandlerOf (value: unknown): 'spotify' | 'app' {
  if (value === undefined) return 'spotify'
  if (value !== 'spotify' && value !== 'app') fail('options.errorHandler must be "spotify" or "app"')
  return value
}

function successRedirectOf (value: unknown): string {
  if (value === undefined) return '/'
  const ok = typeof value === 'string' && (
    (value.startsWith('/') && !value.startsWith('//') && !value.includes('\\')) ||
    (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol))
  )
  if (!ok) fail('options.successRedirect must be a path such as / or an absolute http(s) URL')
  return value as string
}

function proxyPrefixOf (value: unknown): string | false {
  if (value === false) return false
  const prefix = routePath(value, 'proxyPrefix', '/spotify')
  if (prefix === '/') fail('options.proxyPrefix must not be / (the proxy needs a prefix of its own)')
  return prefix
}

function cookieOf (value: unknown, https: boolean): ResolvedOptions['cookie'] {
  if (value === undefined) value = {}
  if (!isPlainObject(value)) fail('options.cookie must be an object')
  const name = value.name ?? 'spotify_session'
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) fail('options.cookie.name must be a valid cookie name')
  const sameSite = value.sameSite ?? 'lax'
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') fail('options.cookie.sameSite must be "lax", "strict" or "none"')
  const domain = value.domain
  if (domain !== undefined && (typeof domain !== 'string' || domain.length === 0)) fail('options.cookie.domain must be a non-empty string')
  const maxAge = value.maxAge === null ? null : optionalNumber(value.maxAge, 'cookie.maxAge', 30 * 24 * 60 * 60, 1)
  const secure = optionalBoolean(value.secure, 'cookie.secure', https)
  // Browsers drop a SameSite=None cookie that is not Secure: every login
  // would seem to work and no session would ever come back.
  if (sameSite === 'none' && !secure) {
    fail('options.cookie.sameSite "none" needs a secure cookie (options.cookie.secure: true, or an https redirectUri): browsers drop SameSite=None cookies without Secure')
  }
  return {
    name,
    secure,
    sameSite,
    domain,
    maxAge
  }
}

function playbackTokenPathOf (value: unknown, paths: readonly string[], scopes: readonly string[]): string | false {
  if (value === undefined || value === false) return false
  const path = routePath(value, 'playbackTokenPath', '/spotify-token')
  if (paths.includes(path)) fail('options.playbackTokenPath must differ from the login, callback and logout paths')
  if (!scopes.includes('streaming')) {
    fail('options.playbackTokenPath needs the streaming scope in options.scopes or options.optionalScopes (the Web Playback SDK refuses a token without it)')
  }
  return path
}

/** Headers a page can send without a preflight, or that a browser sets itself: no proof of a same-origin page. */
const NOT_CUSTOM = new Set(['accept', 'accept-language', 'content-language', 'content-type', 'range', 'cookie', 'origin', 'referer', 'host', 'user-agent'])

function requireHeaderOf (value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/i.test(value) || NOT_CUSTOM.has(value.toLowerCase()) || /^(sec-|proxy-)/i.test(value)) {
    fail('options.requireHeader must be a custom header name such as x-spotify-auth (not one a browser sends by itself or a page may send without a CORS preflight)')
  }
  return value.toLowerCase()
}

function sessionPathOf (value: unknown, paths: ReadonlyArray<string | false>): string | false {
  if (value === false) return false
  const path = routePath(value, 'sessionPath', '/session')
  if (path === '/' || paths.includes(path)) fail('options.sessionPath must not be / and must differ from the login, callback, logout, proxy and playback token paths')
  return path
}

function routeSchemaOf (value: unknown): ResolvedOptions['routeSchema'] {
  if (value === undefined) value = {}
  if (!isPlainObject(value)) fail('options.routeSchema must be an object')
  const tags = value.tags ?? []
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string' && tag.length > 0)) {
    fail('options.routeSchema.tags must be an array of non-empty strings')
  }
  return { tags: [...tags as string[]], hide: optionalBoolean(value.hide, 'routeSchema.hide', false) }
}

function cacheOf (value: unknown): Required<ResponseCacheOptions> | false {
  if (value === false) return false
  if (value === undefined) value = {}
  if (!isPlainObject(value)) fail('options.cache must be an object or false')
  return {
    maxEntries: wholeNumber(value.maxEntries, 'cache.maxEntries', 1000),
    maxBytes: wholeNumber(value.maxBytes, 'cache.maxBytes', 16 * 1024 * 1024),
    maxStale: optionalNumber(value.maxStale, 'cache.maxStale', 5, 0)
  }
}

function retryOf (value: unknown): Required<ApiRetryOptions> {
  if (value === undefined) value = {}
  if (!isPlainObject(value)) fail('options.retry must be an object')
  const limit = optionalNumber(value.limit, 'retry.limit', 2, 0)
  if (!Number.isInteger(limit)) fail('options.retry.limit must be an integer')
  return { limit, maxRetryAfter: optionalNumber(value.maxRetryAfter, 'retry.maxRetryAfter', 10_000, 0) }
}

/**
 * Validates every option once, at register time, and applies the defaults, so
 * that nothing downstream re-checks or re-normalises per request.
 */
export function resolveOptions (options: unknown): ResolvedOptions {
  if (!isPlainObject(options)) fail('options must be an object')
  const redirect = redirectUriOf(options.redirectUri)
  const loginPath = routePath(options.loginPath, 'loginPath', '/login')
  const logoutPath = routePath(options.logoutPath, 'logoutPath', '/logout')
  const proxyPrefix = proxyPrefixOf(options.proxyPrefix)
  const callbackPath = redirect.pathname
  if (callbackPath === loginPath) fail('options.redirectUri path must differ from options.loginPath')
  const scopes = scopesOf(options.scopes, 'options.scopes')
  const optionalScopes = scopesOf(options.optionalScopes, 'options.optionalScopes').filter((scope) => !scopes.includes(scope))
  return {
    clientId: requiredString(options.clientId, 'clientId'),
    clientSecret: requiredString(options.clientSecret, 'clientSecret'),
    // Exactly as configured: Spotify compares the string, and the URL
    // parser's normal form (lower-cased host, no default port) may differ.
    redirectUri: options.redirectUri as string,
    callbackPath,
    secrets: secretsOf(options.secret),
    scopes,
    optionalScopes,
    store: storeOf(options.store),
    loginPath,
    logoutPath,
    proxyPrefix,
    playbackTokenPath: playbackTokenPathOf(options.playbackTokenPath, [loginPath, logoutPath, callbackPath], [...scopes, ...optionalScopes]),
    sessionPath: sessionPathOf(options.sessionPath, [loginPath, logoutPath, callbackPath, proxyPrefix, options.playbackTokenPath as string | false]),
    requireHeader: requireHeaderOf(options.requireHeader),
    routeSchema: routeSchemaOf(options.routeSchema),
    proxyBodyLimit: wholeNumber(options.proxyBodyLimit, 'proxyBodyLimit', 393_216),
    proxyResponseLimit: wholeNumber(options.proxyResponseLimit, 'proxyResponseLimit', 10 * 1024 * 1024),
    proxyRewriteLinks: optionalBoolean(options.proxyRewriteLinks, 'proxyRewriteLinks', true),
    allowedOrigins: allowedOriginsOf(options.trustedOrigins, redirect),
    maxSessionsPerUser: options.maxSessionsPerUser === false ? Number.POSITIVE_INFINITY : wholeNumber(options.maxSessionsPerUser, 'maxSessionsPerUser', 10),
    successRedirect: successRedirectOf(options.successRedirect),
    pkce: optionalBoolean(options.pkce, 'pkce', true),
    showDialog: optionalBoolean(options.showDialog, 'showDialog', false),
    refreshMargin: optionalNumber(options.refreshMargin, 'refreshMargin', 60_000, 0),
    refreshCooldown: optionalNumber(options.refreshCooldown, 'refreshCooldown', 5_000, 0),
    accountsUrl: baseUrl(options.accountsUrl, 'accountsUrl', 'https://accounts.spotify.com'),
    apiUrl: baseUrl(options.apiUrl, 'apiUrl', 'https://api.spotify.com'),
    timeout: optionalNumber(options.timeout, 'timeout', 10_000, 1),
    cookie: cookieOf(options.cookie, redirect.protocol === 'https:'),
    retry: retryOf(options.retry),
    cache: cacheOf(options.cache),
    errorHandler: errorHandlerOf(options.errorHandler),
    onLogin: optionalFunction(options.onLogin, 'onLogin'),
    onRefresh: optionalFunction(options.onRefresh, 'onRefresh')
  }
}
