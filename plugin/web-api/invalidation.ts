/*
 * Which cached reads a successful write makes stale, so that a page never
 * reads back what it just changed: the resource written and everything
 * under it, the resources above it, and the collections that list it.
 */

/** The user's library and what it lists: one write there may change any of them. */
const LIBRARY = ['/v1/me/library', '/v1/me/tracks', '/v1/me/albums', '/v1/me/shows', '/v1/me/episodes', '/v1/me/audiobooks', '/v1/me/following', '/v1/me/playlists']

/** Writes that change what a library or the list of one's playlists shows. */
const LIBRARY_WRITE = /^\/v1\/(me\/(library|tracks|albums|shows|episodes|audiobooks|following|playlists)|playlists\/[^/]+\/followers)(\/|$)/
const PLAYLIST_WRITE = /^\/v1\/(playlists\/|users\/[^/]+\/playlists|me\/playlists)/
const PLAYLIST_LISTS = /^\/v1\/(me\/playlists|users\/[^/]+\/playlists)(\/|$)/

function under (path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`)
}

/**
 * A test of cached paths (without query) against a write to `written`
 * (without query): `true` for what must be dropped. For example a change of
 * a playlist's items drops its items, the playlist, and the lists of
 * playlists (a count, an image, a snapshot changed); a `PUT /me/library`
 * drops the whole library.
 */
export function staleAfterWrite (written: string): (cached: string) => boolean {
  const ancestors: string[] = []
  const segments = written.split('/')
  // `/v1/playlists/{id}/items` → `/v1/playlists/{id}`; never `/v1` or `/v1/playlists`.
  for (let end = segments.length - 1; end >= 4; end--) ancestors.push(segments.slice(0, end).join('/'))
  const library = LIBRARY_WRITE.test(written)
  const playlists = PLAYLIST_WRITE.test(written)
  const player = under(written, '/v1/me/player')
  return (cached) => under(cached, written) ||
    ancestors.includes(cached) ||
    (library && LIBRARY.some((prefix) => under(cached, prefix))) ||
    (playlists && PLAYLIST_LISTS.test(cached)) ||
    (player && under(cached, '/v1/me/player'))
}

/** The path of a target, without its query. */
export function pathOf (target: string): string {
  const query = target.indexOf('?')
  return query === -1 ? target : target.slice(0, query)
}
