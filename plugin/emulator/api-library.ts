/**
 * The generic library of 2026: `PUT|DELETE /me/library?uris=…` save and
 * remove tracks, albums, users and playlists (and episodes, shows and
 * audiobooks, which the catalogue has none of) in one call;
 * `GET /me/library/contains` checks them, artists included. A saved
 * playlist joins the user's playlist listing, as following it does.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { hasScope, query, type ApiContext } from './api-context.js'
import { apiError } from './http.js'
import { canSee, findAlbum, findArtist, findTrack, findUser } from './objects.js'

/** At most this many URIs per call. */
const MAX_URIS = 40

const URI = /^spotify:(track|album|episode|show|audiobook|artist|user|playlist):([0-9A-Za-z._-]{1,64})$/

/** The scope each kind of item needs, to save (`modify`) or to check (`read`). */
const SCOPES: Record<string, { modify: string, read: string }> = {
  user: { modify: 'user-follow-modify', read: 'user-follow-read' },
  artist: { modify: 'user-follow-modify', read: 'user-follow-read' },
  playlist: { modify: 'playlist-modify-public', read: 'playlist-read-private' }
}
const LIBRARY_SCOPES = { modify: 'user-library-modify', read: 'user-library-read' }

/** Whether the catalogue has the item; it has no episodes, shows or audiobooks. */
const EXISTS: Record<string, (state: ApiContext['state'], id: string, userId: string | null) => boolean> = {
  track: (_state, id) => findTrack(id) !== undefined,
  album: (_state, id) => findAlbum(id) !== undefined,
  artist: (_state, id) => findArtist(id) !== undefined,
  user: (_state, id) => findUser(id) !== undefined,
  playlist: (state, id, userId) => {
    const playlist = state.playlists.get(id)
    return playlist !== undefined && canSee(playlist, userId)
  }
}

interface LibraryUri { readonly uri: string, readonly type: string, readonly id: string }

export const libraryRoutes: FastifyPluginAsync<{ context: ApiContext }> = async (app, { context }) => {
  const { state } = context

  /** The request's URIs, or the refusal already sent. */
  const urisOf = (request: FastifyRequest, reply: FastifyReply, access: 'modify' | 'read'): LibraryUri[] | undefined => {
    const raw = query(request).get('uris')
    const list = raw === null ? [] : raw.split(',').filter((u) => u !== '')
    const fail = (status: number, message: string): undefined => { apiError(reply, status, message); return undefined }
    if (list.length === 0) return fail(400, 'Missing required parameter: uris')
    if (list.length > MAX_URIS) return fail(400, `Too many URIs: at most ${MAX_URIS}`)
    const userId = context.grantOf(request).userId
    const parsed: LibraryUri[] = []
    for (const uri of list) {
      const match = URI.exec(uri)
      // Artists are followed through /me/following; the generic library only checks them.
      if (match === null || (match[1] === 'artist' && access === 'modify')) return fail(400, 'Unsupported URI type')
      const [, type, id] = match as unknown as [string, string, string]
      if (EXISTS[type]?.(state, id, userId) !== true) return fail(400, 'Invalid URI')
      if (!hasScope(context, request, (SCOPES[type] ?? LIBRARY_SCOPES)[access])) return fail(403, 'Insufficient client scope')
      parsed.push({ uri, type, id })
    }
    return parsed
  }

  app.put('/me/library', async (request, reply) => {
    const uris = urisOf(request, reply, 'modify')
    if (uris === undefined) return reply
    const userId = context.grantOf(request).userId!
    const playlists = state.libraries.get(userId)!
    for (const { uri, type, id } of uris) {
      if (type !== 'playlist') state.saved.get(userId)!.add(uri)
      else if (!playlists.includes(id)) playlists.unshift(id)
    }
    return reply.code(200).send()
  })

  app.delete('/me/library', async (request, reply) => {
    const uris = urisOf(request, reply, 'modify')
    if (uris === undefined) return reply
    const userId = context.grantOf(request).userId!
    const playlists = state.libraries.get(userId)!
    for (const { uri, type, id } of uris) {
      if (type !== 'playlist') state.saved.get(userId)!.delete(uri)
      else if (playlists.includes(id)) playlists.splice(playlists.indexOf(id), 1)
    }
    return reply.code(200).send()
  })

  app.get('/me/library/contains', async (request, reply) => {
    const uris = urisOf(request, reply, 'read')
    if (uris === undefined) return reply
    const userId = context.grantOf(request).userId!
    return uris.map(({ uri, type, id }) => type === 'playlist'
      ? state.libraries.get(userId)!.includes(id)
      : state.saved.get(userId)!.has(uri))
  })
}
