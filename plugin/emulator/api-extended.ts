/**
 * Endpoints Spotify removed for Development Mode apps in February 2026:
 * they answer 403 there, and serve Extended Quota Mode apps as before.
 * Other users' profiles and playlists, the batch catalogue lookups, browse,
 * and an artist's top tracks.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { pageParams, query, removedInDevelopment, type ApiContext } from './api-context.js'
import { createPlaylist, listPlaylists } from './api-playlists.js'
import { albums, categories, tracks } from './fixtures.js'
import { apiError } from './http.js'
import { artist, category, findAlbum, findArtist, findTrack, findUser, fullAlbum, paging, publicUser, simplifiedAlbum, track } from './objects.js'

type UserParams = { Params: { userId: string } }

const newest = [...albums].sort((a, b) => b.release_date.localeCompare(a.release_date))

/** The items for `?ids=`, or the refusal already sent: Spotify caps each batch. */
function batch<T> (request: FastifyRequest, reply: FastifyReply, max: number, find: (id: string) => T | undefined): T[] | undefined {
  const ids = (query(request).get('ids') ?? '').split(',').filter((id) => id !== '')
  if (ids.length === 0) {
    apiError(reply, 400, 'Missing required parameter: ids')
    return undefined
  }
  if (ids.length > max) {
    apiError(reply, 400, 'Too many ids requested')
    return undefined
  }
  const found = ids.map(find)
  // Spotify sends `null` for an unknown id; the emulator is stricter, so a
  // typo fails loudly instead of surfacing as a null later.
  if (found.includes(undefined)) {
    apiError(reply, 400, 'Invalid id')
    return undefined
  }
  return found as T[]
}

export const extendedRoutes: FastifyPluginAsync<{ context: ApiContext }> = async (app, { context }) => {
  app.addHook('preHandler', async (_request, reply) => {
    if (removedInDevelopment(context, reply)) return reply
  })

  app.get<UserParams>('/users/:userId', async (request, reply) => {
    const user = findUser(request.params.userId)
    return user === undefined ? apiError(reply, 404, 'Resource not found') : publicUser(context.view(), user)
  })

  app.get<UserParams>('/users/:userId/playlists', async (request, reply) => {
    const user = findUser(request.params.userId)
    if (user === undefined) return apiError(reply, 404, 'Resource not found')
    return listPlaylists(context, request, reply, user.id, `/v1/users/${user.id}/playlists`)
  })

  app.post<UserParams>('/users/:userId/playlists', async (request, reply) =>
    createPlaylist(context, request, reply, request.params.userId))

  app.get('/tracks', async (request, reply) => {
    const found = batch(request, reply, 50, findTrack)
    return found === undefined ? reply : { tracks: found.map((t) => track(context.view(), t)) }
  })

  app.get('/albums', async (request, reply) => {
    const found = batch(request, reply, 20, findAlbum)
    return found === undefined ? reply : { albums: found.map((a) => fullAlbum(context.view(), a)) }
  })

  app.get('/artists', async (request, reply) => {
    const found = batch(request, reply, 50, findArtist)
    return found === undefined ? reply : { artists: found.map((a) => artist(context.view(), a)) }
  })

  app.get<{ Params: { id: string } }>('/artists/:id/top-tracks', async (request, reply) => {
    const found = findArtist(request.params.id)
    if (found === undefined) return apiError(reply, 404, 'Resource not found')
    const view = context.view()
    const top = tracks.filter((t) => t.artistIds.includes(found.id)).sort((a, b) => b.popularity - a.popularity).slice(0, 10)
    return { tracks: top.map((t) => track(view, t)) }
  })

  app.get('/browse/new-releases', async (request, reply) => {
    const page = pageParams(query(request), 20, 50)
    if (typeof page === 'string') return apiError(reply, 400, page)
    const view = context.view()
    return { albums: paging(view, '/v1/browse/new-releases', {}, newest, page.offset, page.limit, (a) => simplifiedAlbum(view, a)) }
  })

  app.get('/browse/categories', async (request, reply) => {
    const page = pageParams(query(request), 20, 50)
    if (typeof page === 'string') return apiError(reply, 400, page)
    const view = context.view()
    return { categories: paging(view, '/v1/browse/categories', {}, categories, page.offset, page.limit, (c) => category(view, c)) }
  })

  app.get<{ Params: { categoryId: string } }>('/browse/categories/:categoryId', async (request, reply) => {
    const found = categories.find((c) => c.id === request.params.categoryId)
    return found === undefined ? apiError(reply, 404, 'Resource not found') : category(context.view(), found)
  })
}
