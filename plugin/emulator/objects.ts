/**
 * Fixture records rendered as the Web API's JSON objects (user, playlist,
 * playlist track, track, album, artist, paging). `base` is the emulator's
 * URL, so every `href` and `next` link can be followed against it.
 */
import { createHash } from 'node:crypto'
import {
  albums, artists, tracks, users,
  type FixtureImage, type FixturePlaylist, type FixturePlaylistItem, type FixtureUser
} from './fixtures.js'

const usersById = new Map(users.map((u) => [u.id, u]))
const artistsById = new Map(artists.map((a) => [a.id, a]))
const albumsById = new Map(albums.map((a) => [a.id, a]))
const tracksById = new Map(tracks.map((t) => [t.id, t]))

/** The fixture user with this id. */
export function findUser (id: string): FixtureUser | undefined {
  return usersById.get(id)
}

// Spotify lists the markets a track plays in; a short fixed list is enough
// to keep the field's shape.
const MARKETS = ['DE', 'GB', 'SE', 'US']

function images (base: string, list: readonly FixtureImage[]): object[] {
  return list.map((i) => ({ url: `${base}/images/${i.id}`, height: i.size, width: i.size }))
}

function link (type: string, id: string): { external_urls: { spotify: string }, uri: string } {
  return { external_urls: { spotify: `https://open.spotify.com/${type}/${id}` }, uri: `spotify:${type}:${id}` }
}

/** The user reference found in `added_by`. */
function userLink (base: string, id: string): object {
  const { external_urls: externalUrls, uri } = link('user', id)
  return { external_urls: externalUrls, href: `${base}/v1/users/${id}`, id, type: 'user', uri }
}

/** The user reference found in `owner`, which also carries the display name. */
function userRef (base: string, id: string): object {
  return { display_name: usersById.get(id)!.display_name, ...userLink(base, id) }
}

/** The public user object (`GET /v1/users/{id}`, and `/v1/me` without scopes). */
export function publicUser (base: string, user: FixtureUser): Record<string, unknown> {
  const { external_urls: externalUrls, uri } = link('user', user.id)
  return {
    display_name: user.display_name,
    external_urls: externalUrls,
    followers: { href: null, total: user.followers },
    href: `${base}/v1/users/${user.id}`,
    id: user.id,
    images: images(base, user.images),
    type: 'user',
    uri
  }
}

/**
 * `GET /v1/me`: email only with `user-read-email`; country, product and
 * explicit content settings only with `user-read-private`, as Spotify does.
 */
export function currentUser (base: string, user: FixtureUser, scopes: readonly string[]): Record<string, unknown> {
  const profile = publicUser(base, user)
  if (scopes.includes('user-read-private')) {
    profile.country = user.country
    profile.product = user.product
    profile.explicit_content = { ...user.explicit_content }
  }
  if (scopes.includes('user-read-email')) profile.email = user.email
  return profile
}

function artistRef (base: string, id: string): object {
  return { ...link('artist', id), href: `${base}/v1/artists/${id}`, id, name: artistsById.get(id)!.name, type: 'artist' }
}

function track (base: string, id: string): object {
  const t = tracksById.get(id)!
  const album = albumsById.get(t.albumId)!
  return {
    album: {
      album_type: album.album_type,
      artists: album.artistIds.map((a) => artistRef(base, a)),
      available_markets: MARKETS,
      ...link('album', album.id),
      href: `${base}/v1/albums/${album.id}`,
      id: album.id,
      images: images(base, album.images),
      name: album.name,
      release_date: album.release_date,
      release_date_precision: 'day',
      total_tracks: album.total_tracks,
      type: 'album'
    },
    artists: t.artistIds.map((a) => artistRef(base, a)),
    available_markets: MARKETS,
    disc_number: 1,
    duration_ms: t.duration_ms,
    episode: false,
    explicit: t.explicit,
    external_ids: { isrc: t.isrc },
    ...link('track', t.id),
    href: `${base}/v1/tracks/${t.id}`,
    id: t.id,
    is_local: false,
    name: t.name,
    popularity: t.popularity,
    preview_url: null,
    track: true,
    track_number: t.track_number,
    type: 'track'
  }
}

/** A playlist track object: the track plus who added it and when. */
export function playlistItem (base: string, item: FixturePlaylistItem): object {
  return {
    added_at: item.added_at,
    added_by: userLink(base, item.added_by),
    is_local: false,
    primary_color: null,
    track: track(base, item.trackId),
    video_thumbnail: { url: null }
  }
}

/** Spotify's offset paging object, with absolute `next`/`previous` links. */
export function paging<T> (href: string, all: readonly T[], offset: number, limit: number, render: (item: T) => object): object {
  const page = (o: number): string => `${href}?offset=${o}&limit=${limit}`
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

function snapshotId (playlist: FixturePlaylist): string {
  return createHash('sha256').update(`${playlist.id}:${playlist.items.length}:${playlist.name}`).digest('base64').slice(0, 32)
}

/** The simplified playlist object of listings: `tracks` is only `{ href, total }`. */
export function simplifiedPlaylist (base: string, p: FixturePlaylist): Record<string, unknown> {
  return {
    collaborative: p.collaborative,
    description: p.description,
    ...link('playlist', p.id),
    href: `${base}/v1/playlists/${p.id}`,
    id: p.id,
    images: images(base, p.images),
    name: p.name,
    owner: userRef(base, p.ownerId),
    primary_color: null,
    public: p.public,
    snapshot_id: snapshotId(p),
    tracks: { href: `${base}/v1/playlists/${p.id}/tracks`, total: p.items.length },
    type: 'playlist'
  }
}

/** The full playlist object: followers, and the first 100 tracks as a paging object. */
export function fullPlaylist (base: string, p: FixturePlaylist): Record<string, unknown> {
  return {
    ...simplifiedPlaylist(base, p),
    followers: { href: null, total: p.followers },
    tracks: paging(`${base}/v1/playlists/${p.id}/tracks`, p.items, 0, 100, (item) => playlistItem(base, item))
  }
}

/** Whether a user may see a playlist: public ones, their own, and ones they collaborate on. */
export function canSee (p: FixturePlaylist, userId: string): boolean {
  return p.public || p.ownerId === userId || p.collaborators.includes(userId)
}
