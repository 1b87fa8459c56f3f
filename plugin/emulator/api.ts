/**
 * api.spotify.com under `/v1`: the bearer check, the test switches, and the
 * user and playlist endpoints. Registered with `prefix: '/v1'`.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { spotifyId, type FixturePlaylist } from './fixtures.js'
import { apiError, apiErrorHandler, hangUntilClose, rawPath, rawQuery, statusMessage } from './http.js'
import { canSee, currentUser, findUser, fullPlaylist, paging, playlistItem, publicUser, simplifiedPlaylist } from './objects.js'
import { hang, take, type EmulatorState, type Grant } from './state.js'

export interface ApiOptions {
  state: EmulatorState
}

const NUMBER = /^\d{1,9}$/

/** `limit`/`offset` from the query, checked as strictly as Spotify does. */
function pageParams (query: URLSearchParams, defaultLimit: number, maxLimit: number): { limit: number, offset: number } | string {
  const rawLimit = query.get('limit')
  const rawOffset = query.get('offset')
  const limit = rawLimit === null ? defaultLimit : NUMBER.test(rawLimit) ? Number(rawLimit) : -1
  if (limit < 1 || limit > maxLimit) return 'Invalid limit'
  const offset = rawOffset === null ? 0 : NUMBER.test(rawOffset) ? Number(rawOffset) : -1
  if (offset < 0) return 'Invalid offset'
  return { limit, offset }
}

interface CreatePlaylistBody {
  name: string
  description: string
  public: boolean
  collaborative: boolean
}

/** The body of a create-playlist call, or the 400 message explaining what is wrong with it. */
function createBody (raw: string): CreatePlaylistBody | string {
  let data: unknown
  try {
    data = JSON.parse(raw)
  } catch {
    return 'Error parsing JSON.'
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'Error parsing JSON.'
  const { name, description = '', public: isPublic = true, collaborative = false } = data as Record<string, unknown>
  if (typeof name !== 'string' || name.trim() === '') return 'Missing required field: name'
  if (typeof description !== 'string') return 'Invalid description'
  if (typeof isPublic !== 'boolean') return 'Invalid public'
  if (typeof collaborative !== 'boolean') return 'Invalid collaborative'
  // Spotify: "to create a collaborative playlist you must also set public to false".
  if (collaborative && isPublic) return 'Collaborative playlists can only be private'
  return { name, description, public: isPublic, collaborative }
}

export const apiRoutes: FastifyPluginAsync<ApiOptions> = async (app, { state }) => {
  // The grant behind each authenticated request; a WeakMap rather than a
  // request decoration, so the emulator adds nothing to Fastify's types.
  const grants = new WeakMap<FastifyRequest, Grant>()
  const grantOf = (request: FastifyRequest): Grant => grants.get(request)!

  // Keep every body as the exact text received, for `control.apiRequests`;
  // the routes that take JSON parse it themselves and answer in Spotify's shape.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => { done(null, body) })

  app.setErrorHandler(apiErrorHandler)

  app.setNotFoundHandler((_request, reply) => apiError(reply, 404, 'Service not found'))

  app.addHook('onSend', async (_request, reply) => {
    for (const [name, value] of Object.entries(state.apiResponseHeaders)) reply.header(name, value)
  })

  // Record, apply the switches, then authenticate: in that order, so a test
  // sees every call it caused, misbehaving ones included.
  app.addHook('preHandler', async (request, reply) => {
    state.counters.api++
    state.apiRequests.push({
      method: request.method,
      path: rawPath(request.url),
      query: rawQuery(request.url),
      headers: { ...request.headers },
      body: typeof request.body === 'string' ? request.body : ''
    })

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
    grants.set(request, token.grant)
  })

  const base = (): string => state.baseUrl
  const hasScope = (request: FastifyRequest, scope: string): boolean => grantOf(request).scopes.includes(scope)

  app.get('/me', async (request) => {
    const grant = grantOf(request)
    return currentUser(base(), findUser(grant.userId)!, grant.scopes)
  })

  app.get<{ Params: { userId: string } }>('/users/:userId', async (request, reply) => {
    const user = findUser(request.params.userId)
    return user === undefined ? apiError(reply, 404, 'Resource not found') : publicUser(base(), user)
  })

  app.get('/me/playlists', async (request, reply) => {
    const page = pageParams(new URLSearchParams(rawQuery(request.url)), 20, 50)
    if (typeof page === 'string') return apiError(reply, 400, page)
    const { userId } = grantOf(request)
    // Private and collaborative playlists are listed only with the scope
    // that unlocks them; `total` counts what the token may see.
    const visible = state.libraries.get(userId)!
      .map((id) => state.playlists.get(id)!)
      .filter((p) => p.collaborative
        ? hasScope(request, 'playlist-read-collaborative')
        : p.public || hasScope(request, 'playlist-read-private'))
    return paging(`${base()}/v1/me/playlists`, visible, page.offset, page.limit, (p) => simplifiedPlaylist(base(), p))
  })

  /** The playlist if this user may see it: another user's private playlist is as unknown as a missing one. */
  const visiblePlaylist = (request: FastifyRequest<{ Params: { playlistId: string } }>): FixturePlaylist | undefined => {
    const playlist = state.playlists.get(request.params.playlistId)
    return playlist !== undefined && canSee(playlist, grantOf(request).userId) ? playlist : undefined
  }

  app.get<{ Params: { playlistId: string } }>('/playlists/:playlistId', async (request, reply) => {
    const playlist = visiblePlaylist(request)
    return playlist === undefined ? apiError(reply, 404, 'Resource not found') : fullPlaylist(base(), playlist)
  })

  app.get<{ Params: { playlistId: string } }>('/playlists/:playlistId/tracks', async (request, reply) => {
    const playlist = visiblePlaylist(request)
    if (playlist === undefined) return apiError(reply, 404, 'Resource not found')
    const page = pageParams(new URLSearchParams(rawQuery(request.url)), 20, 100)
    if (typeof page === 'string') return apiError(reply, 400, page)
    return paging(`${base()}/v1/playlists/${playlist.id}/tracks`, playlist.items, page.offset, page.limit, (item) => playlistItem(base(), item))
  })

  const createPlaylist = (request: FastifyRequest, reply: FastifyReply, ownerId: string): FastifyReply => {
    const grant = grantOf(request)
    if (ownerId !== grant.userId) return apiError(reply, 403, 'You cannot create a playlist for another user')
    const body = createBody(typeof request.body === 'string' ? request.body : '')
    if (typeof body === 'string') return apiError(reply, 400, body)
    if (!hasScope(request, body.public ? 'playlist-modify-public' : 'playlist-modify-private')) {
      return apiError(reply, 403, 'Insufficient client scope')
    }
    const playlist: FixturePlaylist = {
      id: spotifyId('created:' + randomUUID()),
      name: body.name,
      description: body.description,
      ownerId,
      public: body.public,
      collaborative: body.collaborative,
      collaborators: [],
      followers: 0,
      images: [],
      items: []
    }
    state.playlists.set(playlist.id, playlist)
    // Spotify lists the newest playlist first.
    state.libraries.get(ownerId)!.unshift(playlist.id)
    return reply.code(201).send(fullPlaylist(base(), playlist))
  }

  app.post('/me/playlists', async (request, reply) => createPlaylist(request, reply, grantOf(request).userId))
  app.post<{ Params: { userId: string } }>('/users/:userId/playlists', async (request, reply) =>
    createPlaylist(request, reply, request.params.userId))
}
