/**
 * The emulator's catalogue: six users, their playlists and the tracks in
 * them. Everything is derived from fixed seeds (no randomness, no clock), so
 * every emulator instance and every test run sees the same ids and order.
 * The records are plain data; `objects.ts` turns them into Spotify's JSON.
 */
import { createHash } from 'node:crypto'

/** A user of the emulated Spotify. */
export interface FixtureUser {
  /** The Spotify user id (`alice`); the consent page offers users by it. */
  readonly id: string
  /** The name `/v1/me` shows. */
  readonly display_name: string
  /** Shown by `/v1/me` in Extended Quota Mode, with the `user-read-email` scope. */
  readonly email: string
  /** ISO 3166-1 alpha-2 country: shown by `/v1/me` in Extended Quota Mode, with `user-read-private`. */
  readonly country: string
  /** The subscription: shown like `country`. */
  readonly product: 'premium' | 'free'
  /** The explicit-content settings: shown like `country`. */
  readonly explicit_content: {
    /** Explicit content is filtered out. */
    readonly filter_enabled: boolean
    /** The user may not change that setting. */
    readonly filter_locked: boolean
  }
  /** The follower count (Extended Quota Mode only). */
  readonly followers: number
  /** Pictures served by the emulator under `/images/{id}`; empty: no picture. */
  readonly images: readonly FixtureImage[]
}

/** An image the emulator serves itself, so pages that show it need no network. */
export interface FixtureImage {
  /** Served at `{emulator}/images/{id}`. */
  readonly id: string
  /** Width and height in pixels (the images are square); `null`: unknown, as Spotify sometimes says. */
  readonly size: number | null
}

/** A performer; tracks and albums refer to it by id. */
export interface FixtureArtist {
  /** The Spotify id. */
  readonly id: string
  /** The artist's name. */
  readonly name: string
}

/** An album, single or compilation that fixture tracks belong to. */
export interface FixtureAlbum {
  /** The Spotify id. */
  readonly id: string
  /** The album's name. */
  readonly name: string
  /** What kind of release it is. */
  readonly album_type: 'album' | 'single' | 'compilation'
  /** Its artists, by id ({@link artists}). */
  readonly artistIds: readonly string[]
  /** `YYYY-MM-DD`. */
  readonly release_date: string
  /** How many tracks the album has. */
  readonly total_tracks: number
  /** Its cover art. */
  readonly images: readonly FixtureImage[]
}

/** A track of the catalogue. */
export interface FixtureTrack {
  /** The Spotify id. */
  readonly id: string
  /** The track's name. */
  readonly name: string
  /** Its album, by id ({@link albums}). */
  readonly albumId: string
  /** Its artists, by id ({@link artists}). */
  readonly artistIds: readonly string[]
  /** Its length in milliseconds. */
  readonly duration_ms: number
  /** Whether it has explicit lyrics. */
  readonly explicit: boolean
  /** 0 to 100 (Extended Quota Mode only). */
  readonly popularity: number
  /** Its position on its album, from 1. */
  readonly track_number: number
  /** Its International Standard Recording Code (`external_ids.isrc`). */
  readonly isrc: string
}

/** One entry of a playlist: which track, added when and by whom. */
export interface FixturePlaylistItem {
  /** The track, by id ({@link tracks}). */
  readonly trackId: string
  /** When it was added, ISO 8601. */
  readonly added_at: string
  /** The user who added it, by id. */
  readonly added_by: string
}

/** A playlist with its owner, visibility and entries. */
export interface FixturePlaylist {
  /** The Spotify id. */
  readonly id: string
  /** The playlist's name. */
  readonly name: string
  /** Its description. */
  readonly description: string
  /** Its owner, by user id. */
  readonly ownerId: string
  /** Whether it shows on the owner's profile. */
  readonly public: boolean
  /** Whether collaborators may edit it. */
  readonly collaborative: boolean
  /** Users other than the owner who may see and edit a collaborative playlist. */
  readonly collaborators: readonly string[]
  /** The follower count. */
  readonly followers: number
  /** Its cover. */
  readonly images: readonly FixtureImage[]
  /** Its entries, in order. */
  readonly items: readonly FixturePlaylistItem[]
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** A 22-character base62 id like Spotify's, stable for a given seed. */
export function spotifyId (seed: string): string {
  let n = BigInt('0x' + createHash('sha256').update(seed).digest('hex'))
  let id = ''
  for (let i = 0; i < 22; i++) {
    id += BASE62[Number(n % 62n)]
    n /= 62n
  }
  return id
}

function image (seed: string, size: number | null): FixtureImage {
  return { id: spotifyId('image:' + seed), size }
}

const ARTIST_NAMES = [
  'The Paper Lanterns', 'Mira Holt', 'Northbound Static', 'Okonkwo & The Tides',
  'Lena Sørvik', 'Velvet Cartography', 'DJ Kessel', 'Ana Beatriz Lume'
]

/** The catalogue's artists. */
export const artists: readonly FixtureArtist[] = ARTIST_NAMES.map((name) => ({ id: spotifyId('artist:' + name), name }))

const ALBUM_SPECS: ReadonlyArray<readonly [string, number, FixtureAlbum['album_type'], string, readonly string[]]> = [
  ['Lanterns in the Rain', 0, 'album', '2019-04-12', ['Paper Boats', 'Wet Asphalt', 'Lantern Song', 'Harbour Lights', 'Small Hours']],
  ['Glass Weather', 1, 'album', '2021-09-03', ['Glass Weather', 'Cold Front', 'Blue Hour', 'Static Bloom', 'Letters to June']],
  ['Interference', 2, 'album', '2018-01-26', ['Northbound', 'Signal Loss', 'Dead Air', 'Carrier Wave', 'Tuning Fork']],
  ['Salt and Brass', 3, 'album', '2022-06-17', ['Lagos Morning', 'Brass Tide', 'Salt Road', 'Undertow', 'Sunday Horns']],
  ['Fjellvind', 4, 'single', '2023-02-10', ['Fjellvind', 'Fjellvind (Acoustic)']],
  ['Maps of Nowhere', 5, 'album', '2020-11-20', ['Atlas', 'Meridian', 'Legend', 'Contour Lines', 'Terra Incognita']],
  ['Warehouse Tapes', 6, 'compilation', '2017-07-07', ['Tape One', 'Tape Two', 'Tape Three', 'Night Bus', 'Last Train Home']],
  ['Luz de Março', 7, 'album', '2024-03-08', ['Luz de Março', 'Saudade Nova', 'Maré Alta', 'Café Lento', 'Ipê Amarelo']]
]

/** The catalogue's albums, one artist each. */
export const albums: readonly FixtureAlbum[] = ALBUM_SPECS.map(([name, artist, type, date, songs]) => ({
  id: spotifyId('album:' + name),
  name,
  album_type: type,
  artistIds: [artists[artist]!.id],
  release_date: date,
  total_tracks: songs.length,
  images: [image('album:' + name + ':640', 640), image('album:' + name + ':300', 300), image('album:' + name + ':64', 64)]
}))

/** Every track of every album, in album order. */
export const tracks: readonly FixtureTrack[] = ALBUM_SPECS.flatMap(([albumName, artist, , , songs], a) =>
  songs.map((name, i) => {
    const seq = a * 10 + i
    // A featured second artist on every seventh track, so track objects
    // show that `artists` is a list.
    const featured = seq % 7 === 3 ? [artists[(artist + 3) % artists.length]!.id] : []
    return {
      id: spotifyId('track:' + albumName + ':' + name),
      name,
      albumId: albums[a]!.id,
      artistIds: [artists[artist]!.id, ...featured],
      duration_ms: 150_000 + ((seq * 7919) % 150_000),
      explicit: seq % 5 === 2,
      popularity: 20 + ((seq * 37) % 75),
      track_number: i + 1,
      isrc: `QZEMU${String(18 + a).padStart(2, '0')}${String(seq).padStart(5, '0')}`
    }
  })
)

/** The fixture users, in order: the first one is the default for consent and autoApprove. */
export const users: readonly FixtureUser[] = [
  {
    id: 'alice',
    display_name: 'Alice Andersson',
    email: 'alice@example.com',
    country: 'SE',
    product: 'premium',
    explicit_content: { filter_enabled: false, filter_locked: false },
    followers: 128,
    images: [image('user:alice:300', 300), image('user:alice:64', 64)]
  },
  {
    id: 'bob',
    display_name: 'Bob Baker',
    email: 'bob@example.net',
    country: 'US',
    product: 'free',
    explicit_content: { filter_enabled: true, filter_locked: false },
    followers: 3,
    images: []
  },
  {
    id: 'carol',
    display_name: 'Carol Chen',
    email: 'carol@example.org',
    country: 'DE',
    product: 'premium',
    explicit_content: { filter_enabled: false, filter_locked: true },
    followers: 2048,
    images: [image('user:carol:300', 300), image('user:carol:64', 64)]
  },
  // Three more, so that an allow-list can be full (five users) with someone left out.
  {
    id: 'dave',
    display_name: 'Dave Diaz',
    email: 'dave@example.com',
    country: 'BR',
    product: 'premium',
    explicit_content: { filter_enabled: false, filter_locked: false },
    followers: 17,
    images: []
  },
  {
    id: 'erin',
    display_name: 'Erin Eriksen',
    email: 'erin@example.net',
    country: 'NO',
    product: 'free',
    explicit_content: { filter_enabled: false, filter_locked: false },
    followers: 5,
    images: []
  },
  {
    id: 'frank',
    display_name: 'Frank Fischer',
    email: 'frank@example.org',
    country: 'AT',
    product: 'premium',
    explicit_content: { filter_enabled: false, filter_locked: false },
    followers: 0,
    images: []
  }
]

const DAY = 86_400_000
const EPOCH = Date.UTC(2024, 0, 1, 9, 30)

function items (seed: number, count: number, addedBy: readonly string[]): FixturePlaylistItem[] {
  return Array.from({ length: count }, (_, i) => ({
    trackId: tracks[(seed * 11 + i * 3) % tracks.length]!.id,
    added_at: new Date(EPOCH + (seed * 5 + i) * DAY).toISOString().replace('.000', ''),
    added_by: addedBy[i % addedBy.length]!
  }))
}

interface PlaylistSpec {
  name: string
  description: string
  ownerId: string
  public: boolean
  collaborative?: boolean
  collaborators?: string[]
  followers: number
  trackCount: number
}

function playlist (spec: PlaylistSpec, seed: number): FixturePlaylist {
  const collaborators = spec.collaborators ?? []
  return {
    id: spotifyId('playlist:' + spec.ownerId + ':' + spec.name),
    name: spec.name,
    description: spec.description,
    ownerId: spec.ownerId,
    public: spec.public,
    collaborative: spec.collaborative ?? false,
    collaborators,
    followers: spec.followers,
    images: spec.trackCount > 0 ? [image('playlist:' + spec.ownerId + ':' + spec.name, 640)] : [],
    items: items(seed, spec.trackCount, [spec.ownerId, ...collaborators])
  }
}

const CAROL_THEMES = [
  'Focus', 'Commute', 'Rainy Day', 'Running', 'Dinner Party', 'Sunday Morning', 'Deep Work', 'Throwbacks',
  'Road Trip', 'Late Night', 'Cooking', 'Study', 'Chill', 'Discoveries', 'Live Favourites', 'Acoustic'
]

const specs: PlaylistSpec[] = [
  { name: 'Morning Focus', description: 'Calm instrumentals to start the day.', ownerId: 'alice', public: true, followers: 12, trackCount: 12 },
  { name: 'Late Night Drive', description: 'Synths, static and empty roads.', ownerId: 'alice', public: true, followers: 4, trackCount: 9 },
  { name: 'Private Diary', description: 'Not for sharing.', ownerId: 'alice', public: false, followers: 0, trackCount: 7 },
  { name: 'Road Trip 2024', description: 'Everyone adds two songs. No skipping.', ownerId: 'alice', public: false, collaborative: true, collaborators: ['bob'], followers: 2, trackCount: 16 },
  { name: 'Everything, Long', description: 'The whole catalogue and then some: more than one page of tracks.', ownerId: 'alice', public: true, followers: 1, trackCount: 130 },
  { name: 'Gym <Bangers> & "Hits"', description: 'Names can hold markup; clients must escape it.', ownerId: 'alice', public: false, followers: 0, trackCount: 5 },
  { name: 'Empty for Now', description: '', ownerId: 'alice', public: true, followers: 0, trackCount: 0 },
  { name: "Bob's Chill", description: 'Low effort, high vibes.', ownerId: 'bob', public: true, followers: 1, trackCount: 8 },
  { name: 'Secret Stash', description: '', ownerId: 'bob', public: false, followers: 0, trackCount: 3 },
  ...Array.from({ length: 48 }, (_, i): PlaylistSpec => {
    const n = i + 1
    const collaborative = n % 16 === 0
    return {
      name: `${CAROL_THEMES[i % CAROL_THEMES.length]!} #${String(n).padStart(2, '0')}`,
      description: `Carol's playlist number ${n}.`,
      ownerId: 'carol',
      // Mostly public; every ninth private; every sixteenth collaborative
      // (and so private, as Spotify requires).
      public: !collaborative && n % 9 !== 0,
      collaborative,
      collaborators: collaborative ? ['alice'] : [],
      followers: (n * 13) % 50,
      trackCount: 3 + (n % 10)
    }
  }),
  { name: "Dave's Mix", description: '', ownerId: 'dave', public: true, followers: 2, trackCount: 6 },
  { name: "Erin's Favourites", description: '', ownerId: 'erin', public: true, followers: 1, trackCount: 4 },
  { name: "Frank's Finds", description: '', ownerId: 'frank', public: true, followers: 0, trackCount: 5 }
]

/** Every fixture playlist, owned ones and the ones other users follow. */
export const playlists: readonly FixturePlaylist[] = specs.map(playlist)

function idsOf (ownerId: string): string[] {
  return playlists.filter((p) => p.ownerId === ownerId).map((p) => p.id)
}

function idOf (ownerId: string, name: string): string {
  return playlists.find((p) => p.ownerId === ownerId && p.name === name)!.id
}

/**
 * Each user's playlist library in the order `GET /v1/me/playlists` lists it:
 * their own playlists, then the ones they follow or collaborate on.
 */
export const libraries: ReadonlyMap<string, readonly string[]> = new Map([
  ['alice', [...idsOf('alice'), idOf('carol', 'Focus #01'), idOf('carol', 'Acoustic #16')]],
  ['bob', [...idsOf('bob'), idOf('alice', 'Road Trip 2024'), idOf('alice', 'Morning Focus')]],
  ['carol', idsOf('carol')],
  ['dave', idsOf('dave')],
  ['erin', idsOf('erin')],
  ['frank', idsOf('frank')]
])

/** A browse category (Extended Quota Mode only). */
export interface FixtureCategory {
  /** The category id (`focus`). */
  readonly id: string
  /** The name shown. */
  readonly name: string
  /** Its icon. */
  readonly icon: FixtureImage
}

/** The browse categories, in listing order. */
export const categories: readonly FixtureCategory[] = ['Focus', 'Chill', 'Workout', 'Decades', 'Indie', 'Jazz', 'Sleep'].map((name) => ({
  id: name.toLowerCase(),
  name,
  icon: image('category:' + name, 274)
}))
