/**
 * `GET /v1/search` over the catalogue: a case-insensitive match of every
 * word of `q` against names (a track also matches by its artists and
 * album), in catalogue order, per requested type.
 */
import { albums, artists, tracks, type FixturePlaylist } from './fixtures.js'
import { findAlbum, findArtist } from './objects.js'

/** The result types the emulator's catalogue has. */
export const SEARCH_TYPES = ['album', 'artist', 'playlist', 'track'] as const
export type SearchType = typeof SEARCH_TYPES[number]

/** Each requested type once, in request order, or the 400 message for a bad list. */
export function searchTypes (raw: string | null): SearchType[] | string {
  if (raw === null || raw === '') return 'Missing parameter type'
  const types = [...new Set(raw.split(','))]
  return types.every((t): t is SearchType => (SEARCH_TYPES as readonly string[]).includes(t)) ? types : 'Bad search type field'
}

function matcher (q: string): (...names: string[]) => boolean {
  const words = q.toLowerCase().split(/\s+/).filter((w) => w !== '')
  return (...names) => {
    const text = names.join(' ').toLowerCase()
    return words.every((w) => text.includes(w))
  }
}

/** The matches of one type: ids for the catalogue, playlists (public ones only) as records. */
export function search (q: string, type: SearchType, playlists: Iterable<FixturePlaylist>): ReadonlyArray<{ id: string }> {
  const matches = matcher(q)
  switch (type) {
    case 'artist':
      return artists.filter((a) => matches(a.name))
    case 'album':
      return albums.filter((a) => matches(a.name, ...a.artistIds.map((id) => findArtist(id)!.name)))
    case 'track':
      return tracks.filter((t) => matches(t.name, findAlbum(t.albumId)!.name, ...t.artistIds.map((id) => findArtist(id)!.name)))
    default:
      return [...playlists].filter((p) => p.public && matches(p.name))
  }
}
