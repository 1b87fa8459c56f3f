import fastifyCookie from '@fastify/cookie'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
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
import { createApiClient, sessionClient, webApiUrlCheck } from './spotify/api-client.js'
import { createTokenEndpoint } from './spotify/token-endpoint.js'
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
  /** The token store in use. */
  readonly store: TokenStore
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
  const apiClient = createApiClient(options, agents)
  const underWebApi = webApiUrlCheck(options.apiUrl)
  const sessions = new Sessions({
    tokens,
    store,
    clientFor: (session) => sessionClient(apiClient, session, underWebApi)
  }, createSessionCookie(options))

  Sessions.prepare(app)
  app.decorateRequest('spotify', {
    getter (this: FastifyRequest) {
      return sessions.of(this)
    }
  })

  app.decorate('spotify', {
    authenticate: sessions.authenticate.bind(sessions),
    session: (sessionId: string) => sessions.open(sessionId),
    store
  } satisfies SpotifyAuthDecorator)

  await app.register(async (scope) => {
    useErrorHandler(scope, app, options.errorHandler)
    await loginRoutes(scope, { options, endpoint, sessions })
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
export type { SpotifyRequest } from './session/sessions.js'
export { memoryStore, type MemoryStoreOptions } from './store/memory.js'
export { pgStore, type PgStoreOptions } from './store/postgres.js'
export { redisStore, type RedisClient, type RedisStoreOptions } from './store/redis.js'
export type { SpotifyToken, StoreContext, StoreFactory, TokenStore } from './store/types.js'
