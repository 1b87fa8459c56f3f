import fastifyCookie from '@fastify/cookie'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import type { Got } from 'got'
import { useErrorHandler } from './error-reply.js'
import { checkedStore, resolveOptions, type SpotifyAuthOptions } from './options.js'
import { loginRoutes } from './routes/login.js'
import { logoutRoute } from './routes/logout.js'
import { proxyRoutes } from './routes/proxy.js'
import { createSessionCookie } from './session/cookie.js'
import type { SpotifySession } from './session/session.js'
import { Sessions, type SpotifyRequest } from './session/sessions.js'
import { SessionTokens } from './session/tokens.js'
import { createAgents, destroyAgents } from './spotify/agents.js'
import { bearerClient, createApiClient, sessionClient, webApiUrlCheck } from './spotify/api-client.js'
import { AppTokens } from './spotify/app-tokens.js'
import { profileReader } from './spotify/profile.js'
import { createTokenEndpoint, type AppToken } from './spotify/token-endpoint.js'
import type { TokenStore } from './store/types.js'

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
   * A session by its id, outside any request (a background job, a webhook):
   * the same tokens, refresh and `api` as `request.spotify`, no cookie.
   */
  session (sessionId: string): SpotifySession
  /**
   * The ids of a Spotify user's live sessions (`token.userId`), least
   * recently used first. Rejects with `FST_SPOTIFY_STORE_UNSUPPORTED` on a
   * store without a per-user index.
   */
  sessionsOf (userId: string): Promise<string[]>
  /** Ends every session of a Spotify user ("log out everywhere"); resolves how many it ended. */
  endSessionsOf (userId: string): Promise<number>
  /**
   * The app's own access to the Web API (Client Credentials): no user, for
   * catalog calls (search, tracks, albums, artists) on pages nobody logged
   * in to. Its `api` is the same client as a session's, with the app's token.
   */
  readonly app: SpotifyApp
  /** The token store in use. */
  readonly store: TokenStore
}

/** What `fastify.spotify.app` offers. */
export interface SpotifyApp {
  /** A valid app token, fetched on first use and again before it expires. */
  getToken (): Promise<AppToken>
  /** A `got` instance on `{apiUrl}/v1/` authenticated as the app. */
  readonly api: Got
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

const spotifyAuth: FastifyPluginAsync<SpotifyAuthOptions> = async (app, rawOptions) => {
  const options = resolveOptions(rawOptions)
  const store = typeof options.store === 'function'
    ? checkedStore(await options.store({ secrets: options.secrets }), 'the store built by options.store')
    : options.store
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie)

  const agents = createAgents()
  app.addHook('onClose', async () => { destroyAgents(agents) })
  const endpoint = createTokenEndpoint({ ...options, agents })
  const tokens = new SessionTokens({
    store,
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
  const apiClient = createApiClient(options, agents)
  const underWebApi = webApiUrlCheck(options.apiUrl)
  const appTokens = new AppTokens(endpoint, options.refreshMargin, options.refreshCooldown)
  const appAccess: SpotifyApp = {
    getToken: () => appTokens.get(),
    api: bearerClient(apiClient, {
      token: () => appTokens.get().then((token) => token.accessToken),
      renewed: (rejected) => appTokens.renewed(rejected).then((token) => token.accessToken)
    }, underWebApi)
  }
  const sessions = new Sessions({
    tokens,
    store,
    clientFor: (session) => sessionClient(apiClient, session, underWebApi)
  }, createSessionCookie(options), options.maxSessionsPerUser)

  Sessions.prepare(app)
  app.decorateRequest('spotify', {
    getter (this: FastifyRequest) {
      return sessions.of(this)
    }
  })

  app.decorate('spotify', {
    authenticate: sessions.authenticate.bind(sessions),
    session: (sessionId: string) => sessions.open(sessionId),
    sessionsOf: (userId: string) => sessions.sessionsOf(userId),
    endSessionsOf: (userId: string) => sessions.endSessionsOf(userId),
    app: appAccess,
    store
  } satisfies SpotifyAuthDecorator)

  await app.register(async (scope) => {
    useErrorHandler(scope, app, options.errorHandler)
    await loginRoutes(scope, { options, endpoint, sessions, profileOf: profileReader(apiClient, underWebApi) })
    await scope.register(logoutRoute, { options, sessions })
    if (options.proxyPrefix !== false) await scope.register(proxyRoutes, { options, sessions })
  })
}

/**
 * Spotify's Authorization Code flow for Fastify: login with state and PKCE,
 * tokens kept server-side behind a signed cookie, refresh before expiry, and a
 * Web API proxy and client.
 */
export default fp(spotifyAuth, {
  fastify: '5.x',
  name: 'fastify-spotify-auth'
})

export { spotifyAuth }
export {
  errorCodes,
  AuthorizationDeniedError,
  CrossSiteRequestError,
  ForeignUrlError,
  InvalidCodeError,
  InvalidOptionError,
  InvalidPathError,
  InvalidStateError,
  MissingCodeError,
  NoSessionError,
  RefreshBusyError,
  SessionRevokedError,
  StoreUnavailableError,
  StoreUnsupportedError,
  TooEarlyError,
  UpstreamError,
  UpstreamTimeoutError,
  UpstreamTooLargeError,
  type CauseSummary,
  type SpotifyErrorCode
} from './errors.js'
export { errorBody, type SpotifyErrorBody } from './error-reply.js'
export type { ApiRetryOptions, LoginEvent, SessionCookieOptions, SpotifyAuthOptions } from './options.js'
export type { SpotifySession } from './session/session.js'
export type { AppToken } from './spotify/token-endpoint.js'
export type { SpotifyUser } from './spotify/profile.js'
export type { SpotifyRequest } from './session/sessions.js'
export { memoryStore, type MemoryStoreOptions } from './store/memory.js'
export { pgStore, type PgStoreOptions } from './store/postgres.js'
export { redisStore, type RedisClient, type RedisStoreOptions } from './store/redis.js'
export type { RedisDurabilityOptions } from './store/redis-durability.js'
export type { SpotifyToken, StoreContext, StoreFactory, TokenStore } from './store/types.js'
