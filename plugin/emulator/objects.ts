/**
 * Fixture records rendered as the Web API's JSON objects (user, playlist,
 * playlist item, track, album, artist, category, paging). A {@link View}
 * carries the emulator's URL, so every `href` and `next` link can be
 * followed against it, and the quota mode, which decides the fields: in
 * Development Mode Spotify drops user and track fields that Extended Quota
 * Mode apps still get.
 */
import { createHash } from 'node:crypto'
import {
  albums, artists, spotifyId, tracks, users,
  type FixtureAlbum, type FixtureArtist, type FixtureCategory, type FixtureImage, type FixturePlaylist,
  type FixturePlaylistItem, type FixtureTrack, type FixtureUser
} from './fixtures.js'

/** How to render: links on `base`, fields as `extended` (Extended Quota Mode) or not. */
export interface View {
  readonly base: string
  readonly extended: boolean
}

type Json = Record<string, unknown>

const usersById = new Map(users.map((u) => [u.id, u]))
const artistsById = new Map(artists.map((a) => [a.id, a]))
const albumsById = new Map(albums.map((a) => [a.id, a]))
const tracksById = new Map(tracks.map((t) => [t.id, t]))

/** The fixture user with this id. */
export function findUser (id: string): FixtureUser | undefined {
  return usersById.get(id)
}

export function findTrack (id: string): FixtureTrack | undefined {
  return tracksById.get(id)
}

export function findAlbum (id: string): FixtureAlbum | undefined {
  return albumsById.get(id)
}

export function findArtist (id: string): FixtureArtist | undefined {
  return artistsById.get(id)
}

// Spotify lists the markets a track plays in; a short fixed list is enough
// to keep the field's shape.
const MARKETS = ['DE', 'GB', 'SE', 'US']

function images (view: View, list: readonly FixtureImage[]): Json[] {
  return list.map((i) => ({ url: `${view.base}/images/${i.id}`, height: i.size, width: i.size }))
}

function link (type: string, id: string): { external_urls: { spotify: string }, uri: string } {
  return { external_urls: { spotify: `https://open.spotify.com/${type}/${id}` }, uri: `spotify:${type}:${id}` }
}

/** The user reference found in `added_by`. */
function userLink (view: View, id: string): Json {
  const { external_urls: externalUrls, uri } = link('user', id)
  return { external_urls: externalUrls, href: `${view.base}/v1/users/${id}`, id, type: 'user', uri }
}

/** The user reference found in `owner`, which also carries the display name. */
function userRef (view: View, id: string): Json {
  return { display_name: usersById.get(id)!.display_name, ...userLink(view, id) }
}

/** The public user object (`GET /v1/users/{id}`, and the base of `/v1/me`). */
export function publicUser (view: View, user: FixtureUser): Json {
  const { external_urls: externalUrls, uri } = link('user', user.id)
  return {
    display_name: user.display_name,
    external_urls: externalUrls,
    ...(view.extended ? { followers: { href: null, total: user.followers } } : {}),
    href: `${view.base}/v1/users/${user.id}`,
    id: user.id,
    images: images(view, user.images),
    type: 'user',
    uri
  }
}

/**
 * `GET /v1/me`. Extended Quota Mode: email only with `user-read-email`;
 * country, product and explicit content settings only with
 * `user-read-private`. Development Mode sends none of them, whatever the scopes.
 */
export function currentUser (view: View, user: FixtureUser, scopes: readonly string[]): Json {
  const profile: Json = { account_id: spotifyId('account:' + user.id), ...publicUser(view, user) }
  if (!view.extended) return profile
  if (scopes.includes('user-read-private')) {
    profile.country = user.country
    profile.product = user.product
    profile.explicit_content = { ...user.explicit_content }
  }
  if (scopes.includes('user-read-email')) profile.email = user.email
  return profile
}

function artistRef (view: View, id: string): Json {
  return { ...link('artist', id), href: `${view.base}/v1/artists/${id}`, id, name: artistsById.get(id)!.name, type: 'artist' }
}

/** The full artist object. */
export function artist (view: View, a: FixtureArtist): Json {
  const index = artists.indexOf(a)
  return {
    ...link('artist', a.id),
    followers: { href: null, total: 1000 + index * 7919 },
    genres: [],
    href: `${view.base}/v1/artists/${a.id}`,
    id: a.id,
    images: [],
    name: a.name,
    popularity: 30 + index * 7,
    type: 'artist'
  }
}

/** The simplified album object found in tracks, listings and search. */
export function simplifiedAlbum (view: View, album: FixtureAlbum): Json {
  return {
    album_type: album.album_type,
    artists: album.artistIds.map((a) => artistRef(view, a)),
    available_markets: MARKETS,
    ...link('album', album.id),
    href: `${view.base}/v1/albums/${album.id}`,
    id: album.id,
    images: images(view, album.images),
    name: album.name,
    release_date: album.release_date,
    release_date_precision: 'day',
    total_tracks: album.total_tracks,
    type: 'album'
  }
}

/** The track object, in Development Mode without `popularity` and `available_markets`. */
export function track (view: View, t: FixtureTrack): Json {
  return {
    album: simplifiedAlbum(view, albumsById.get(t.albumId)!),
    ...simplifiedTrack(view, t),
    external_ids: { isrc: t.isrc },
    ...(view.extended ? { popularity: t.popularity } : {})
  }
}

/** The simplified track object of an album's track listing. */
export function simplifiedTrack (view: View, t: FixtureTrack): Json {
  return {
    artists: t.artistIds.map((a) => artistRef(view, a)),
    ...(view.extended ? { available_markets: MARKETS } : {}),
    disc_number: 1,
    duration_ms: t.duration_ms,
    explicit: t.explicit,
    ...link('track', t.id),
    href: `${view.base}/v1/tracks/${t.id}`,
    id: t.id,
    is_local: false,
    name: t.name,
    preview_url: null,
    track_number: t.track_number,
    type: 'track'
  }
}

/** The tracks of an album, in track order. */
export function albumTracks (album: FixtureAlbum): FixtureTrack[] {
  return tracks.filter((t) => t.albumId === album.id)
}

/** The full album object, with its first 50 tracks as a paging object. */
export function fullAlbum (view: View, album: FixtureAlbum): Json {
  const index = albums.indexOf(album)
  const label = `${artistsById.get(album.artistIds[0]!)!.name} Recordings`
  return {
    ...simplifiedAlbum(view, album),
    copyrights: [{ text: `(P) ${album.release_date.slice(0, 4)} ${label}`, type: 'P' }],
    external_ids: { upc: String(190_000_000_000 + index) },
    genres: [],
    label,
    popularity: 25 + index * 9,
    tracks: paging(view, `/v1/albums/${album.id}/tracks`, {}, albumTracks(album), 0, 50, (t) => simplifiedTrack(view, t))
  }
}

/** A browse category object. */
export function category (view: View, c: FixtureCategory): Json {
  return { href: `${view.base}/v1/browse/categories/${c.id}`, icons: images(view, [c.icon]), id: c.id, name: c.name }
}

/**
 * A playlist entry: the track plus who added it and when. Spotify renamed
 * `track` to `item` and still sends `track` for older clients.
 */
export function playlistItem (view: View, entry: FixturePlaylistItem): Json {
  const rendered = track(view, tracksById.get(entry.trackId)!)
  return {
    added_at: entry.added_at,
    added_by: userLink(view, entry.added_by),
    is_local: false,
    item: rendered,
    track: rendered
  }
}

/**
 * Spotify's offset paging object, with absolute `href`/`next`/`previous`
 * links on the emulator that keep the request's other parameters.
 */
export function paging<T> (view: View, path: string, params: Record<string, string>, all: readonly T[], offset: number, limit: number, render: (item: T) => Json): Json {
  const page = (o: number): string => `${view.base}${path}?${new URLSearchParams({ ...params, offset: String(o), limit: String(limit) }).toString()}`
  return {
    href: page(offset),
    items: all.slice(offset, offset + limit).map(render),
    limit,
    next: offset + limit < all.length ? page(offset + limit) : null,
    offset,
    previous: offset > 0 ? page(Math.max(0, offset - limit)) : null,
    total: all.length
  }
}

/** A version tag that changes whenever the playlist's name or entries change. */
export function snapshotId (playlist: FixturePlaylist): string {
  const content = [playlist.name, ...playlist.items.map((i) => `${i.trackId}@${i.added_at}`)].join('\n')
  return createHash('sha256').update(`${playlist.id}:${content}`).digest('base64').slice(0, 32)
}

/**
 * The simplified playlist object of listings: `items` is only `{ href, total }`.
 * Extended Quota Mode also sends the deprecated `tracks` twin.
 */
export function simplifiedPlaylist (view: View, p: FixturePlaylist): Json {
  const listing = {
    collaborative: p.collaborative,
    description: p.description,
    ...link('playlist', p.id),
    href: `${view.base}/v1/playlists/${p.id}`,
    id: p.id,
    images: images(view, p.images),
    items: { href: `${view.base}/v1/playlists/${p.id}/items`, total: p.items.length },
    name: p.name,
    owner: userRef(view, p.ownerId),
    public: p.public,
    snapshot_id: snapshotId(p),
    type: 'playlist'
  }
  return view.extended ? { ...listing, tracks: { href: `${view.base}/v1/playlists/${p.id}/tracks`, total: p.items.length } } : listing
}

/**
 * The full playlist object: followers, and the first entries as a paging
 * object when `withItems` (Development Mode shows them only to the owner
 * and collaborators). Each page has its endpoint's largest limit (50 for
 * `/items`, 100 for the older `/tracks`), so its `next` link works there.
 */
export function fullPlaylist (view: View, p: FixturePlaylist, withItems: boolean): Json {
  const { items: _ref, tracks: _tracks, ...rest } = simplifiedPlaylist(view, p)
  const playlist: Json = { ...rest, followers: { href: null, total: p.followers } }
  if (!withItems) return playlist
  const render = (entry: FixturePlaylistItem): Json => playlistItem(view, entry)
  playlist.items = paging(view, `/v1/playlists/${p.id}/items`, {}, p.items, 0, 50, render)
  if (view.extended) playlist.tracks = paging(view, `/v1/playlists/${p.id}/tracks`, {}, p.items, 0, 100, render)
  return playlist
}

/** Whether a user may see a playlist: public ones, their own, and ones they collaborate on. */
export function canSee (p: FixturePlaylist, userId: string | null): boolean {
  return p.public || isMember(p, userId)
}

/** Whether a user owns or collaborates on a playlist: who may read its items in Development Mode, and edit them. */
export function isMember (p: FixturePlaylist, userId: string | null): boolean {
  return userId !== null && (p.ownerId === userId || p.collaborators.includes(userId))
}
