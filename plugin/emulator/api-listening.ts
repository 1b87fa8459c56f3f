/** The user's listening: `GET /me/top/{artists|tracks}` and `GET /me/player/currently-playing`. */
import type { FastifyPluginAsync } from 'fastify'
import { hasScope, pageParams, query, type ApiContext } from './api-context.js'
import { apiError } from './http.js'
import { TIME_RANGES, nowPlaying, topArtists, topTracks, type TimeRange } from './listening.js'
import { artist, paging, track } from './objects.js'

export const listeningRoutes: FastifyPluginAsync<{ context: ApiContext }> = async (app, { context }) => {
  app.get<{ Params: { type: string } }>('/me/top/:type', async (request, reply) => {
    const { type } = request.params
    if (type !== 'artists' && type !== 'tracks') return apiError(reply, 404, 'Service not found')
    if (!hasScope(context, request, 'user-top-read')) return apiError(reply, 403, 'Insufficient client scope')
    const params = query(request)
    const range = params.get('time_range') ?? 'medium_term'
    if (!(TIME_RANGES as readonly string[]).includes(range)) return apiError(reply, 400, 'Invalid time range')
    const page = pageParams(params, 20, 50)
    if (typeof page === 'string') return apiError(reply, 400, page)
    const userId = context.grantOf(request).userId!
    const view = context.view()
    const path = `/v1/me/top/${type}`
    const linkParams = { time_range: range }
    return type === 'artists'
      ? paging(view, path, linkParams, topArtists(userId, range as TimeRange), page.offset, page.limit, (a) => artist(view, a))
      : paging(view, path, linkParams, topTracks(userId, range as TimeRange), page.offset, page.limit, (t) => track(view, t))
  })

  app.get('/me/player/currently-playing', async (request, reply) => {
    if (!hasScope(context, request, 'user-read-currently-playing') && !hasScope(context, request, 'user-read-playback-state')) {
      return apiError(reply, 403, 'Insufficient client scope')
    }
    const view = context.view()
    const now = context.state.now()
    const playing = nowPlaying(context.grantOf(request).userId!)
    return {
      context: {
        type: 'playlist',
        href: `${view.base}/v1/playlists/${playing.playlist.id}`,
        external_urls: { spotify: `https://open.spotify.com/playlist/${playing.playlist.id}` },
        uri: `spotify:playlist:${playing.playlist.id}`
      },
      timestamp: now,
      // Moves on with the clock, so a test that moves time sees progress.
      progress_ms: now % playing.track.duration_ms,
      is_playing: true,
      item: track(view, playing.track),
      currently_playing_type: 'track'
    }
  })
}
