import { memoized } from '../memo.js'

/**
 * The Web API's paths under `/v1/`, every path parameter written `{id}`:
 * derived from Spotify's OpenAPI description of the Web API (2026.5.31, in
 * the "fixed" variant that sonallux/spotify-web-api maintains), with
 * `grep '^  /' | sed 's/{[a-z_]*}/{id}/g' | sort -u`. Deprecated and removed
 * operations stay: a call to one is still a call worth counting.
 */
const TEMPLATES = `
albums albums/{id} albums/{id}/tracks
artists artists/{id} artists/{id}/albums artists/{id}/related-artists artists/{id}/top-tracks
audio-analysis/{id} audio-features audio-features/{id}
audiobooks audiobooks/{id} audiobooks/{id}/chapters
browse/categories browse/categories/{id} browse/categories/{id}/playlists browse/featured-playlists browse/new-releases
chapters chapters/{id} episodes episodes/{id} markets
me me/albums me/albums/contains me/audiobooks me/audiobooks/contains me/episodes me/episodes/contains
me/following me/following/contains me/library me/library/contains
me/player me/player/currently-playing me/player/devices me/player/next me/player/pause me/player/play
me/player/previous me/player/queue me/player/recently-played me/player/repeat me/player/seek
me/player/shuffle me/player/volume
me/playlists me/shows me/shows/contains me/top/artists me/top/tracks me/tracks me/tracks/contains
playlists/{id} playlists/{id}/followers playlists/{id}/followers/contains playlists/{id}/images
playlists/{id}/items playlists/{id}/tracks
recommendations recommendations/available-genre-seeds search
shows shows/{id} shows/{id}/episodes tracks tracks/{id} users/{id} users/{id}/playlists
`

/** What a path that is none of Spotify's becomes: its segments could be ids. */
export const OTHER_ROUTE = '/v1/{other}'

/** A node of the path tree: literal segments first, then the parameter. */
interface Node {
  readonly literal: Map<string, Node>
  param: Node | undefined
  /** The template ending here, if one does. */
  template: string | undefined
}

function node (): Node {
  return { literal: new Map(), param: undefined, template: undefined }
}

const ROOT = node()
for (const path of TEMPLATES.split(/\s+/)) {
  if (path === '') continue
  let at = ROOT
  for (const segment of path.split('/')) {
    if (segment === '{id}') {
      at.param ??= node()
      at = at.param
    } else {
      let next = at.literal.get(segment)
      if (next === undefined) at.literal.set(segment, next = node())
      at = next
    }
  }
  at.template = `/v1/${path}`
}

/** The template `segments` from `index` on match, trying a literal segment before a parameter. */
function match (at: Node, segments: readonly string[], index: number): string | undefined {
  if (index === segments.length) return at.template
  const segment = segments[index] as string
  const literal = at.literal.get(segment)
  const found = literal === undefined ? undefined : match(literal, segments, index + 1)
  if (found !== undefined || at.param === undefined || segment === '') return found
  return match(at.param, segments, index + 1)
}

/**
 * A Web API request target (`/v1/playlists/3cEYp/items?limit=2`) as the
 * template of Spotify's API it calls (`/v1/playlists/{id}/items`): what
 * telemetry may name, since ids and queries may identify a user. A path
 * that is none of Spotify's becomes {@link OTHER_ROUTE}.
 */
export function routeTemplate (target: string): string {
  const queryAt = target.indexOf('?')
  return templateOfPath(queryAt === -1 ? target : target.slice(0, queryAt))
}

/** Paths repeat (a session's `/me`, a playlist's items): each is matched once while it stays in use. */
const templateOfPath = memoized((path: string): string => {
  // An `apiUrl` with a path of its own comes before `/v1/`.
  const v1At = path.indexOf('/v1/')
  if (v1At === -1) return OTHER_ROUTE
  const segments = path.slice(v1At + 4).split('/')
  // The URL rule lets one trailing slash through.
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop()
  return match(ROOT, segments, 0) ?? OTHER_ROUTE
}, 1024)
