/**
 * The catalogue, for user and app tokens alike: one track, album (and its
 * tracks) or artist, and search.
 */
import type { FastifyPluginAsync } from 'fastify'
import { pageParams, query, type ApiContext } from './api-context.js'
import type { FixtureAlbum, FixtureArtist, FixturePlaylist, FixtureTrack } from './fixtures.js'
import { apiError } from './http.js'
import {
  albumTracks, artist, findAlbum, findArtist, findTrack, fullAlbum, paging, simplifiedAlbum, simplifiedPlaylist, simplifiedTrack, track,
  type View
} from './objects.js'
import { search, searchTypes, type SearchType } from './search.js'

type Params = { Params: { id: string } }

/** The rendering of one search result type, with its key in the response. */
const RESULTS: Record<SearchType, readonly [key: string, render: (view: View, found: any) => Record<string, unknown>]> = {
  album: ['albums', (view, a: FixtureAlbum) => simplifiedAlbum(view, a)],
  artist: ['artists', (view, a: FixtureArtist) => artist(view, a)],
  playlist: ['playlists', (view, p: FixturePlaylist) => simplifiedPlaylist(view, p)],
  track: ['tracks', (view, t: FixtureTrack) => track(view, t)]
}

export const catalogRoutes: FastifyPluginAsync<{ context: ApiContext }> = async (app, { context }) => {
  app.get<Params>('/tracks/:id', async (request, reply) => {
    const found = findTrack(request.params.id)
    return found === undefined ? apiError(reply, 404, 'Resource not found') : track(context.view(), found)
  })

  app.get<Params>('/albums/:id', async (request, reply) => {
    const found = findAlbum(request.params.id)
    return found === undefined ? apiError(reply, 404, 'Resource not found') : fullAlbum(context.view(), found)
  })

  app.get<Params>('/albums/:id/tracks', async (request, reply) => {
    const found = findAlbum(request.params.id)
    if (found === undefined) return apiError(reply, 404, 'Resource not found')
    const page = pageParams(query(request), 20, 50)
    if (typeof page === 'string') return apiError(reply, 400, page)
    const view = context.view()
    return paging(view, `/v1/albums/${found.id}/tracks`, {}, albumTracks(found), page.offset, page.limit, (t) => simplifiedTrack(view, t))
  })

  app.get<Params>('/artists/:id', async (request, reply) => {
    const found = findArtist(request.params.id)
    return found === undefined ? apiError(reply, 404, 'Resource not found') : artist(context.view(), found)
  })

  app.get('/search', async (request, reply) => {
    const params = query(request)
    const q = params.get('q') ?? ''
    if (q.trim() === '') return apiError(reply, 400, 'No search query')
    const types = searchTypes(params.get('type'))
    if (typeof types === 'string') return apiError(reply, 400, types)
    // Spotify's 2026 limits: at most 10 results per type, offsets up to 1000.
    const page = pageParams(params, 5, 10, 1000)
    if (typeof page === 'string') return apiError(reply, 400, page)
    const view = context.view()
    const body: Record<string, object> = {}
    for (const type of types) {
      const [key, render] = RESULTS[type]
      const found = search(q, type, context.state.playlists.values())
      body[key] = paging(view, '/v1/search', { q, type }, found, page.offset, page.limit, (item) => render(view, item))
    }
    return body
  })
}
