/**
 * api.spotify.com under `/v1`: the bearer check, the test switches, the
 * Development Mode gate, then the endpoint modules. Registered with
 * `prefix: '/v1'`.
 */
import type { FastifyPluginAsync } from 'fastify'
import { createApiContext } from './api-context.js'
import { catalogRoutes } from './api-catalog.js'
import { extendedRoutes } from './api-extended.js'
import { libraryRoutes } from './api-library.js'
import { listeningRoutes } from './api-listening.js'
import { playlistRoutes } from './api-playlists.js'
import { withCaching } from './caching.js'
import { developmentModeRefusal } from './development-mode.js'
import { apiError, apiErrorHandler, hangUntilClose, rawPath, rawQuery, statusMessage } from './http.js'
import { currentUser, findUser } from './objects.js'
import { spendQuota } from './quota.js'
import { hang, take, type EmulatorState } from './state.js'

export interface ApiOptions {
  state: EmulatorState
}

export const apiRoutes: FastifyPluginAsync<ApiOptions> = async (app, { state }) => {
  const context = createApiContext(state)

  // Take every body as the exact text received (for `control.apiRequests`);
  // the routes that take JSON parse it themselves and answer in Spotify's shape.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => { done(null, body) })

  app.setErrorHandler(apiErrorHandler)

  app.setNotFoundHandler((_request, reply) => apiError(reply, 404, 'Service not found'))

  app.addHook('onSend', async (_request, reply) => {
    for (const [name, value] of Object.entries(state.apiResponseHeaders)) reply.header(name, value)
  })
  app.addHook('onSend', async (request, reply, payload) => withCaching(request, reply, payload))

  // Record, apply the switches, then authenticate: in that order, so a test
  // sees every call it caused, misbehaving ones included.
  app.addHook('preHandler', async (request, reply) => {
    state.counters.api++
    // By route, as a dashboard counts operations: where the quota goes.
    const endpoint = `${request.method} ${request.routeOptions.url ?? 'unknown'}`
    state.apiCalls.set(endpoint, (state.apiCalls.get(endpoint) ?? 0) + 1)
    // A bounded ring, bodies only when asked: a long-running emulator (the
    // demo) must not keep every request it ever saw.
    if (state.apiRequests.length >= state.recordRequests) state.apiRequests.shift()
    if (state.recordRequests > 0) {
      state.apiRequests.push({
        method: request.method,
        path: rawPath(request.url),
        query: rawQuery(request.url),
        headers: { ...request.headers },
        body: state.recordBodies && typeof request.body === 'string' ? request.body : ''
      })
    }

    if (take(state.hangApi)) return hangUntilClose(request, reply, hang(state))
    if (take(state.rateLimitApi)) {
      return apiError(reply.header('retry-after', String(state.rateLimitApi.value)), 429, 'API rate limit exceeded')
    }
    if (take(state.failApi)) return apiError(reply, state.failApi.value, statusMessage(state.failApi.value))

    const authorization = request.headers.authorization
    if (authorization === undefined) return apiError(reply, 401, 'No token provided')
    const match = /^Bearer (\S+)$/i.exec(authorization)
    if (match === null) return apiError(reply, 400, 'Only valid bearer authentication supported')
    const token = state.accessTokens.get(match[1]!)
    if (token === undefined) return apiError(reply, 401, 'Invalid access token')
    if (state.now() >= token.expiresAt) return apiError(reply, 401, 'The access token expired')
    if (take(state.unauthorizeApi)) return apiError(reply, 401, 'Invalid access token')
    const spent = spendQuota(state.quota, token.grant.clientId, state.now(), reply)
    if (spent !== undefined) return spent

    const refusal = developmentModeRefusal(state, token.grant)
    if (refusal !== undefined) return refusal(reply)
    // An app token acts for no user: Spotify refuses it on every /me endpoint.
    if (token.grant.userId === null && request.routeOptions.url?.startsWith('/v1/me') === true) {
      return apiError(reply, 403, 'Insufficient client scope')
    }
    context.grants.set(request, token.grant)
  })

  app.get('/me', async (request) => {
    const grant = context.grantOf(request)
    return currentUser(context.view(), findUser(grant.userId!)!, grant.scopes)
  })

  await app.register(playlistRoutes, { context })
  await app.register(catalogRoutes, { context })
  await app.register(listeningRoutes, { context })
  await app.register(libraryRoutes, { context })
  await app.register(extendedRoutes, { context })
}
