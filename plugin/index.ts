import fastifyCookie from '@fastify/cookie'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { createAgents, destroyAgents } from './agents.js'
import { Authenticator, forgetting } from './authenticator.js'
import { createApiClient } from './client.js'
import { spotifyErrorHandler } from './error-reply.js'
import { NoSessionError, TooEarlyError } from './errors.js'
import { loginRoutes } from './login.js'
import { logoutRoute } from './logout.js'
import { resolveOptions, type SpotifyAuthOptions } from './options.js'
import { proxyRoutes } from './proxy.js'
import { SpotifyRequestContext, type SpotifyRequest } from './request-context.js'
import { createSessionCookie } from './session-cookie.js'
import type { TokenStore } from './store/types.js'
import { createTokenEndpoint } from './token-endpoint.js'

/** What `fastify.spotify` offers. */
export interface SpotifyAuthDecorator {
  /**
   * A hook for the app's own routes (`onRequest` or `preHandler`): 401
   * (`FST_SPOTIFY_NO_SESSION`) unless the request has a valid session, which
   * it refreshes first when needed. Fastify calls it with `done`; called
   * without, it returns a promise.
   */
  authenticate (request: FastifyRequest, reply: FastifyReply, done?: HookHandlerDoneFunction): Promise<unknown> | undefined
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

const kContext = Symbol('fastify-spotify-auth.context')
const kReply = Symbol('fastify-spotify-auth.reply')

interface Internals {
  [kContext]: SpotifyRequestContext | null
  [kReply]: FastifyReply | null
}

const spotifyAuth: FastifyPluginAsync<SpotifyAuthOptions> = async (app, rawOptions) => {
  const options = resolveOptions(rawOptions)
  await options.store.init?.({ secrets: options.secrets })
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie)

  const agents = createAgents()
  app.addHook('onClose', async () => { destroyAgents(agents) })
  const endpoint = createTokenEndpoint({ ...options, agents })
  const authenticator = new Authenticator({
    store: options.store,
    endpoint,
    refreshMargin: options.refreshMargin,
    // A lock outlives the token call it guards, so it never expires while the
    // holder can still write.
    lockTtlMs: options.timeout + 1000,
    onRefresh: options.onRefresh,
    log: app.log
  })
  const cookie = createSessionCookie(options)
  const services = {
    options,
    endpoint,
    authenticator,
    cookie,
    store: options.store,
    apiClient: createApiClient(options, agents)
  }

  // request.spotify needs the reply (to set or clear the cookie), which a
  // request does not reference: one assignment per request keeps it at hand,
  // and the context itself is only built when a handler reads it.
  app.decorateRequest(kReply, null)
  app.decorateRequest(kContext, null)
  app.addHook('onRequest', (request, reply, done) => {
    (request as unknown as Internals)[kReply] = reply
    done()
  })
  app.decorateRequest('spotify', {
    getter (this: FastifyRequest) {
      const internals = this as unknown as Internals
      if (internals[kContext] === null) {
        const reply = internals[kReply]
        if (reply === null) throw new TooEarlyError()
        internals[kContext] = new SpotifyRequestContext(services, this, reply)
      }
      return internals[kContext]
    }
  })

  app.decorate('spotify', {
    // `await request.spotify.getToken()` in effect, but this runs before every
    // guarded route: no request context, and with a store that can `peek`,
    // a fresh token lets the route go on synchronously, without a promise.
    authenticate (request: FastifyRequest, reply: FastifyReply, done?: HookHandlerDoneFunction) {
      const sessionId = cookie.read(request, reply)
      if (done !== undefined && sessionId !== undefined && authenticator.freshNow(sessionId) !== undefined) {
        done()
        return undefined
      }
      const checking = sessionId === undefined
        ? Promise.reject(new NoSessionError())
        : forgetting(authenticator.tokenFor(sessionId), () => { cookie.clear(reply) }, true)
      if (done === undefined) return checking
      checking.then(() => done(), done)
      return undefined
    },
    store: options.store
  } satisfies SpotifyAuthDecorator)

  await app.register(async (scope) => {
    scope.setErrorHandler(spotifyErrorHandler(app))
    await loginRoutes(scope, services)
    await scope.register(logoutRoute, options)
    if (options.proxyPrefix !== false) await scope.register(proxyRoutes, services)
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
export * from './errors.js'
export type { ApiRetryOptions, SessionCookieOptions, SpotifyAuthOptions } from './options.js'
export type { SpotifyRequest } from './request-context.js'
export type { SpotifyErrorBody } from './error-reply.js'
export { memoryStore, type MemoryStoreOptions } from './store/memory.js'
export { redisStore, type RedisClient, type RedisStoreOptions } from './store/redis.js'
export type { SpotifyToken, StoreContext, TokenStore } from './store/types.js'
