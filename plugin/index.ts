/**
 * The plugin (the default export), its options and decorations, the token
 * stores and every error it answers with.
 *
 * @module fastify-spotify-auth
 */
import fastifyCookie from '@fastify/cookie'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import type { Got } from 'got'
import { useErrorHandler } from './error-reply.js'
import { healthCheck, type SpotifyHealth } from './health.js'
import { checkedStore, resolveOptions, type SpotifyAuthOptions } from './options.js'
import { loginRoutes } from './routes/login.js'
import { logoutRoute } from './routes/logout.js'
import { playbackTokenRoute } from './routes/playback-token.js'
import { proxyRoutes } from './routes/proxy.js'
import { requiredHeader } from './routes/required-header.js'
import { sessionRoutes } from './routes/session.js'
import { describeOnly } from './routes/schemas.js'
import { createSessionCookie } from './session/cookie.js'
import { Devices } from './session/devices.js'
import { scopesRequirer, type ScopesHook } from './session/require-scopes.js'
import type { SpotifySession } from './session/session.js'
import { Sessions, type SpotifyRequest } from './session/sessions.js'
import { SessionTokens } from './session/tokens.js'
import { createAgents, destroyAgents } from './accounts/agents.js'
import { AppTokens } from './accounts/app-tokens.js'
import { profileReader } from './accounts/profile.js'
import { createTokenEndpoint, type AppToken } from './accounts/token-endpoint.js'
import type { StoreFactory, TokenStore } from './store/types.js'
import type { SpotifyFetch } from './web-api/fetch-client.js'
import { createWebApi } from './web-api/index.js'
import { RateLimitGate } from './web-api/rate-limit.js'
import { instrumentedStore } from './diagnostics/store.js'
import { instrumentedEndpoint } from './diagnostics/token-endpoint.js'
import { sessionTagger } from './diagnostics/session-tag.js'
import { UsageCounter, type SpotifyUsage } from './diagnostics/usage.js'

/** What `fastify.spotify` offers. */
export interface SpotifyAuthDecorator {
  /**
   * A hook for the app's own routes (`onRequest` or `preHandler`): 401
   * (`FST_SPOTIFY_NO_SESSION`) unless the request has a valid session, which
   * it refreshes first when needed. Fastify calls it with `done`; called
   * without, it returns a promise.
   */
  authenticate (request: FastifyRequest, reply: FastifyReply, done?: HookHandlerDoneFunction): Promise<unknown> | undefined
  /**
   * A hook (`onRequest` or `preHandler`) that authenticates like
   * `authenticate` and also needs `scopes` granted. When some are missing,
   * a page load (GET that navigates, or asks for text/html) is redirected
   * to the login asking for them, and back to the same URL; any other
   * request gets 403 `FST_SPOTIFY_MISSING_SCOPES` naming them. Throws
   * `FST_SPOTIFY_INVALID_OPTION` at once for a scope that is in neither
   * `scopes` nor `optionalScopes`.
   */
  requireScopes (scopes: readonly string[]): ScopesHook
  /**
   * A session by its id, outside any request (a background job, a webhook):
   * the same tokens, refresh and `api` as `request.spotify`, no cookie.
   *
   * It trusts its argument: a session id is a credential, and whoever holds
   * one acts as that user. Take ids from `onLogin` and `sessionsOf`, keep
   * them on the server, and never pass one that came from a request (a
   * query string, a body, a header) without checking that it belongs to
   * the caller; for the caller's own session use `request.spotify`.
   */
  session (sessionId: string): SpotifySession
  /**
   * The ids of a Spotify user's live sessions (`token.userId`), least
   * recently used first. Rejects with `FST_SPOTIFY_STORE_UNSUPPORTED` on a
   * store without a per-user index.
   */
  sessionsOf (userId: string): Promise<string[]>
  /**
   * The ids of the live sessions whose refresh token ends before `time`
   * (Unix seconds: `Date.now() / 1000 + 30 * 86400` for "within 30 days"),
   * soonest first: for a job that asks those users to reconnect before
   * Spotify's six-month wall. Read each with `fastify.spotify.store.get(id)`
   * (no refresh). Rejects with `FST_SPOTIFY_STORE_UNSUPPORTED` on a store
   * without it (the three shipped stores have it).
   */
  sessionsExpiringBefore (time: number): Promise<string[]>
  /** Ends every session of a Spotify user ("log out everywhere"); resolves how many it ended. */
  endSessionsOf (userId: string): Promise<number>
  /**
   * The app's own access to the Web API (Client Credentials): no user, for
   * catalog calls (search, tracks, albums, artists) on pages nobody logged
   * in to. Its `api` is the same client as a session's, with the app's token.
   */
  readonly app: SpotifyApp
  /**
   * For a readiness route: whether the token store answers (a round trip of
   * at most a second) and until when Spotify's rate limit holds Web API
   * calls back. No call to Spotify; never rejects.
   */
  health (): Promise<SpotifyHealth>
  /** The token store in use. */
  readonly store: TokenStore
  /**
   * What this instance asked of Spotify over the last hour and the last
   * day: Web API calls by route template and source, 429s by reason, and
   * refresh token calls. Kept in memory per instance (bounded); for an
   * admin page of a small app. Across instances, add the figures up.
   */
  usage (): Promise<SpotifyUsage>
}

/** What `fastify.spotify.app` offers. */
export interface SpotifyApp {
  /** A valid app token, fetched on first use and again before it expires. */
  getToken (): Promise<AppToken>
  /** A `got` instance on `{apiUrl}/v1/` authenticated as the app. */
  readonly api: Got
  /** WHATWG fetch for the Web API, authenticated as the app (see `SpotifyFetch`). */
  readonly fetch: SpotifyFetch
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The Spotify session of this request. */
    readonly spotify: SpotifyRequest
  }
  interface FastifyInstance {
    readonly spotify: SpotifyAuthDecorator
  }
}

/**
 * The plugin function itself, not wrapped by `fastify-plugin`: registered
 * this way, its decorations and routes stay inside the encapsulation
 * context it is registered in. Most apps want the default export.
 */
const spotifyAuth: FastifyPluginAsync<SpotifyAuthOptions> = async (app, rawOptions) => {
  const options = resolveOptions(rawOptions)
  const built = typeof options.store === 'function'
  const store = built
    ? checkedStore(await (options.store as StoreFactory)({ secrets: options.secrets, clientId: options.clientId }), 'the store built by options.store')
    : options.store as TokenStore
  // A store the plugin built, the plugin closes (what it opened itself,
  // never the client it was given); a store the app built, the app closes.
  if (built && store.close !== undefined) app.addHook('onClose', async () => { await store.close?.() })
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie)

  const agents = createAgents()
  app.addHook('onClose', async () => { destroyAgents(agents) })
  const endpoint = instrumentedEndpoint(createTokenEndpoint({ ...options, agents }))
  // The plugin's own use of the store, published on the `store` channel.
  const tracked = instrumentedStore(store)
  const tag = sessionTagger(options.secrets[0] as string)
  const usage = new UsageCounter()
  const tokens = new SessionTokens({
    store: tracked,
    tag,
    usage,
    endpoint,
    refreshMargin: options.refreshMargin,
    refreshCooldown: options.refreshCooldown,
    // A lock outlives the token call it guards, so it never expires while the
    // holder can still write.
    lockTtl: options.timeout + 1000,
    onRefresh: options.onRefresh,
    log: app.log
  })
  app.addHook('onClose', () => tokens.close())
  const gate = new RateLimitGate(tracked.rateLimit, app.log)
  const webApi = createWebApi({ apiUrl: options.apiUrl, timeout: options.timeout, responseLimit: options.proxyResponseLimit, retry: options.retry, cache: options.cache }, gate, usage)
  app.addHook('onClose', () => webApi.close())
  const { clients } = webApi
  const appTokens = new AppTokens(endpoint, options.refreshMargin, options.refreshCooldown)
  const appAccess: SpotifyApp = {
    getToken: () => appTokens.required(),
    api: clients.got(appTokens),
    fetch: clients.fetch(appTokens)
  }
  const sessions = new Sessions({ tokens, store: tracked, clients, tag }, createSessionCookie(options), options.maxSessionsPerUser)

  Sessions.prepare(app)
  app.decorateRequest('spotify', {
    getter (this: FastifyRequest) {
      return sessions.of(this)
    }
  })

  app.decorate('spotify', {
    authenticate: sessions.authenticate.bind(sessions),
    requireScopes: scopesRequirer(options, sessions, app.prefix + options.loginPath),
    session: (sessionId: string) => sessions.open(sessionId),
    sessionsOf: (userId: string) => sessions.sessionsOf(userId),
    endSessionsOf: (userId: string) => sessions.endSessionsOf(userId),
    sessionsExpiringBefore: (time: number) => sessions.sessionsExpiringBefore(time),
    app: appAccess,
    health: healthCheck(tracked, gate),
    store,
    usage: () => Promise.resolve(usage.snapshot())
  } satisfies SpotifyAuthDecorator)

  const guard = requiredHeader(options.requireHeader)
  await app.register(async (scope) => {
    useErrorHandler(scope, app, options.errorHandler)
    describeOnly(scope)
    await loginRoutes(scope, { options, endpoint, sessions, profileOf: profileReader(clients.got) })
    await scope.register(logoutRoute, { options, sessions })
    if (options.proxyPrefix !== false) await scope.register(proxyRoutes, { options, sessions, policy: webApi.policy, rule: webApi.rule, guard })
    if (options.playbackTokenPath !== false) await scope.register(playbackTokenRoute, { options, sessions, guard })
    if (options.sessionPath !== false) {
      await scope.register(sessionRoutes, { options, sessions, devices: new Devices(sessions, store, options.secrets[0] as string), guard })
    }
  })
}

/**
 * Spotify's Authorization Code flow for Fastify: login with state and PKCE,
 * tokens kept server-side behind a signed cookie, refresh before expiry, and a
 * Web API proxy and client.
 */
export default fp(spotifyAuth, {
  fastify: '5.x || 6.x',
  name: 'fastify-spotify-auth'
})

export { spotifyAuth }
export {
  errorCodes,
  AuthorizationDeniedError,
  CrossSiteRequestError,
  DeviceNotFoundError,
  ForeignUrlError,
  InvalidCodeError,
  InvalidOptionError,
  InvalidPathError,
  InvalidStateError,
  MissingCodeError,
  MissingHeaderError,
  MissingScopesError,
  NoSessionError,
  QuotaExceededError,
  RateLimitedError,
  RefreshBusyError,
  SessionRevokedError,
  StoreUnavailableError,
  StoreUnsupportedError,
  TooEarlyError,
  UpstreamError,
  UpstreamTimeoutError,
  UpstreamTooLargeError,
  type CauseSummary,
  type DetailErrorArgs,
  type PlainErrorArgs,
  type SpotifyErrorClass,
  type SpotifyErrorCode,
  type SpotifyErrorOptions
} from './errors.js'
export { errorBody, type SpotifyErrorBody, type SpotifyErrorDetails } from './error-reply.js'
export type { ApiRetryOptions, LoginEvent, RefreshEvent, RefreshTokenEnd, ResponseCacheOptions, RouteSchemaOptions, SessionCookieOptions, SpotifyAuthOptions } from './options.js'
export type { SpotifyHealth } from './health.js'
export type { PlaybackToken } from './routes/playback-token.js'
export type { SessionInfo } from './routes/session.js'
export type { SpotifyDevice } from './session/devices.js'
export type { ScopesHook } from './session/require-scopes.js'
export type { SpotifySession } from './session/session.js'
export type { AppToken } from './accounts/token-endpoint.js'
export type { SpotifyUser } from './accounts/profile.js'
export type { SpotifyFetch, SpotifyFetchInit } from './web-api/fetch-client.js'
export type { FetchLike } from './web-api/transport.js'
export type { SpotifyRequest } from './session/sessions.js'
export { memoryStore, type MemoryStoreOptions } from './store/memory.js'
export { pgStore, type PgPool, type PgResult, type PgStoreOptions } from './store/postgres.js'
export type { IoredisClient, IoredisPipeline, IoredisSubscriber } from './store/redis/ioredis.js'
export type { NodeRedisClient } from './store/redis/node-redis.js'
export { redisStore, type RedisClient, type RedisDurabilityOptions, type RedisStoreOptions } from './store/redis/index.js'
export type { RateLimitWindow, SpotifyToken, StoreContext, StoreFactory, TokenStore } from './store/types.js'
export {
  diagnosticsChannels,
  type RateLimitMessage,
  type RateLimitReason,
  type RefreshReason,
  type SessionEndReason,
  type SessionEndedMessage,
  type SessionMessage,
  type SessionStartedMessage,
  type StoreMessage,
  type StoreOperation,
  type TokenExchangeMessage,
  type TokenRefreshMessage,
  type TracedError,
  type TracedMessage,
  type WebApiMessage,
  type WebApiSource
} from './diagnostics/channels.js'
export type { SpotifyUsage, SpotifyUsagePeriod } from './diagnostics/usage.js'
