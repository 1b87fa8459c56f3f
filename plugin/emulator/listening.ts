/**
 * What each fixture user listens to, derived from the fixture playlists
 * (never from edits made through the API, so results stay the same for a
 * whole run): top tracks and artists per time range, and the track now playing.
 */
import { libraries, playlists, tracks, type FixtureArtist, type FixturePlaylist, type FixtureTrack } from './fixtures.js'
import { findArtist } from './objects.js'

export const TIME_RANGES = ['short_term', 'medium_term', 'long_term'] as const
export type TimeRange = typeof TIME_RANGES[number]

const byId = new Map(playlists.map((p) => [p.id, p]))
const tracksById = new Map(tracks.map((t) => [t.id, t]))

/**
 * The playlists a time range draws from: recent listening is the user's
 * first two own playlists, the medium term all of them, the long term the
 * whole library, followed playlists included.
 */
function sources (userId: string, range: TimeRange): FixturePlaylist[] {
  const library = libraries.get(userId)!.map((id) => byId.get(id)!)
  const own = library.filter((p) => p.ownerId === userId)
  return range === 'short_term' ? own.slice(0, 2) : range === 'medium_term' ? own : library
}

/** Most frequent first; ties keep first-seen order (`sort` is stable). */
function ranked<T> (values: readonly T[]): T[] {
  const counts = new Map<T, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)!)
}

export function topTracks (userId: string, range: TimeRange): FixtureTrack[] {
  return ranked(sources(userId, range).flatMap((p) => p.items.map((i) => i.trackId))).map((id) => tracksById.get(id)!)
}

export function topArtists (userId: string, range: TimeRange): FixtureArtist[] {
  return ranked(topTracks(userId, range).flatMap((t) => t.artistIds)).map((id) => findArtist(id)!)
}

/** The user's first own playlist with entries, and its first track: what is playing. */
export function nowPlaying (userId: string): { playlist: FixturePlaylist, track: FixtureTrack } {
  const playlist = sources(userId, 'medium_term').find((p) => p.items.length > 0)!
  return { playlist, track: tracksById.get(playlist.items[0]!.trackId)! }
}
