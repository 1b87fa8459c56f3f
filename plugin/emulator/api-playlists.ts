/**
 * Playlists: the current user's listing and creation, one playlist, and
 * its entries under `/items`. The older `/tracks` paths answer 403 in
 * Development Mode and behave like `/items` in Extended Quota Mode.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { hasScope, jsonBody, pageParams, query, removedInDevelopment, type ApiContext } from './api-context.js'
import { spotifyId, type FixturePlaylist } from './fixtures.js'
import { apiError } from './http.js'
import { canSee, fullPlaylist, isMember, paging, playlistItem, simplifiedPlaylist, snapshotId } from './objects.js'
import { addItems, removeItems, reorderItems, replaceItems, trackIds, urisOf } from './playlist-edits.js'

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

/** Creates a playlist for `ownerId`, who must be the token's user. */
export function createPlaylist (context: ApiContext, request: FastifyRequest, reply: FastifyReply, ownerId: string): FastifyReply {
  const { state } = context
  const grant = context.grantOf(request)
  if (ownerId !== grant.userId) return apiError(reply, 403, 'You cannot create a playlist for another user')
  const body = createBody(typeof request.body === 'string' ? request.body : '')
  if (typeof body === 'string') return apiError(reply, 400, body)
  if (!hasScope(context, request, body.public ? 'playlist-modify-public' : 'playlist-modify-private')) {
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
  return reply.code(201).send(fullPlaylist(context.view(), playlist, true))
}

/**
 * A user's playlist listing as `userId` sees it: another user's private
 * playlists never; one's own private and collaborative ones only with the
 * scope that unlocks them. `total` counts what the token may see.
 */
export function listPlaylists (context: ApiContext, request: FastifyRequest, reply: FastifyReply, userId: string, path: string): FastifyReply {
  const page = pageParams(query(request), 20, 50, 100_000)
  if (typeof page === 'string') return apiError(reply, 400, page)
  const viewer = context.grantOf(request).userId
  const visible = context.state.libraries.get(userId)!
    .map((id) => context.state.playlists.get(id)!)
    .filter((p) => userId !== viewer
      ? p.public
      : p.collaborative
        ? hasScope(context, request, 'playlist-read-collaborative')
        : p.public || hasScope(context, request, 'playlist-read-private'))
  const view = context.view()
  return reply.send(paging(view, path, {}, visible, page.offset, page.limit, (p) => simplifiedPlaylist(view, p)))
}

type PlaylistRequest = FastifyRequest<{ Params: { playlistId: string } }>

export const playlistRoutes: FastifyPluginAsync<{ context: ApiContext }> = async (app, { context }) => {
  const { state } = context

  app.get('/me/playlists', async (request, reply) => {
    const { userId } = context.grantOf(request)
    return listPlaylists(context, request, reply, userId!, '/v1/me/playlists')
  })

  app.post('/me/playlists', async (request, reply) => createPlaylist(context, request, reply, context.grantOf(request).userId!))

  /** The playlist if this user may see it: another user's private playlist is as unknown as a missing one. */
  const visiblePlaylist = (request: PlaylistRequest): FixturePlaylist | undefined => {
    const playlist = state.playlists.get(request.params.playlistId)
    return playlist !== undefined && canSee(playlist, context.grantOf(request).userId) ? playlist : undefined
  }

  app.get<{ Params: { playlistId: string } }>('/playlists/:playlistId', async (request, reply) => {
    const playlist = visiblePlaylist(request)
    if (playlist === undefined) return apiError(reply, 404, 'Resource not found')
    const withItems = state.mode === 'extended' || isMember(playlist, context.grantOf(request).userId)
    return fullPlaylist(context.view(), playlist, withItems)
  })

  /**
   * The playlist whose entries the request reads or edits, or the refusal
   * already sent. Development Mode shows entries only to the owner and
   * collaborators; editing always needs that, and the modify scope.
   */
  const itemsOf = (request: PlaylistRequest, reply: FastifyReply, edit: boolean): FixturePlaylist | undefined => {
    const playlist = visiblePlaylist(request)
    if (playlist === undefined) {
      apiError(reply, 404, 'Resource not found')
      return undefined
    }
    const member = isMember(playlist, context.grantOf(request).userId)
    if (!member && (edit || state.mode === 'development')) {
      apiError(reply, 403, 'Forbidden')
      return undefined
    }
    if (edit && !hasScope(context, request, playlist.public ? 'playlist-modify-public' : 'playlist-modify-private')) {
      apiError(reply, 403, 'Insufficient client scope')
      return undefined
    }
    return playlist
  }

  const save = (playlist: FixturePlaylist, items: FixturePlaylist['items']): { snapshot_id: string } => {
    const next = { ...playlist, items }
    state.playlists.set(playlist.id, next)
    return { snapshot_id: snapshotId(next) }
  }

  for (const name of ['items', 'tracks'] as const) {
    const path = `/playlists/:playlistId/${name}`
    // The old name serves Extended Quota Mode apps only, with its old limit of 100.
    const gone = (reply: FastifyReply): boolean => name === 'tracks' && removedInDevelopment(context, reply)
    const maxLimit = name === 'items' ? 50 : 100

    app.get<{ Params: { playlistId: string } }>(path, async (request, reply) => {
      if (gone(reply)) return reply
      const playlist = itemsOf(request, reply, false)
      if (playlist === undefined) return reply
      const page = pageParams(query(request), 20, maxLimit)
      if (typeof page === 'string') return apiError(reply, 400, page)
      const view = context.view()
      return paging(view, `/v1/playlists/${playlist.id}/${name}`, {}, playlist.items, page.offset, page.limit, (entry) => playlistItem(view, entry))
    })

    app.post<{ Params: { playlistId: string } }>(path, async (request, reply) => {
      if (gone(reply)) return reply
      const playlist = itemsOf(request, reply, true)
      if (playlist === undefined) return reply
      const body = jsonBody(request)
      if (body === undefined) return apiError(reply, 400, 'Error parsing JSON.')
      const params = query(request)
      const ids = trackIds(urisOf(params.get('uris'), body))
      if (typeof ids === 'string') return apiError(reply, 400, ids)
      const rawPosition = params.get('position')
      const position = rawPosition === null ? body.position : /^\d{1,9}$/.test(rawPosition) ? Number(rawPosition) : -1
      const items = addItems(playlist.items, ids, position, context.grantOf(request).userId!, state.now())
      if (typeof items === 'string') return apiError(reply, 400, items)
      return reply.code(201).send(save(playlist, items))
    })

    app.put<{ Params: { playlistId: string } }>(path, async (request, reply) => {
      if (gone(reply)) return reply
      const playlist = itemsOf(request, reply, true)
      if (playlist === undefined) return reply
      const body = jsonBody(request)
      if (body === undefined) return apiError(reply, 400, 'Error parsing JSON.')
      const uris = urisOf(query(request).get('uris'), body)
      // Replace and reorder share the endpoint; `uris` decides which one it is.
      if (uris === undefined) {
        const items = reorderItems(playlist.items, body)
        return typeof items === 'string' ? apiError(reply, 400, items) : save(playlist, items)
      }
      const ids = Array.isArray(uris) && uris.length === 0 ? [] : trackIds(uris)
      if (typeof ids === 'string') return apiError(reply, 400, ids)
      return save(playlist, replaceItems(ids, context.grantOf(request).userId!, state.now()))
    })

    app.delete<{ Params: { playlistId: string } }>(path, async (request, reply) => {
      if (gone(reply)) return reply
      const playlist = itemsOf(request, reply, true)
      if (playlist === undefined) return reply
      const body = jsonBody(request)
      if (body === undefined) return apiError(reply, 400, 'Error parsing JSON.')
      const items = removeItems(playlist.items, body)
      return typeof items === 'string' ? apiError(reply, 400, items) : save(playlist, items)
    })
  }
}
