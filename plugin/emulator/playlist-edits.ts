/**
 * The edits of `/v1/playlists/{id}/items` as pure functions over a
 * playlist's entries: each returns the new entries, or the 400 message
 * Spotify would answer with.
 */
import type { FixturePlaylistItem } from './fixtures.js'
import { findTrack } from './objects.js'

/** At most this many URIs per add, replace or remove call. */
export const MAX_EDIT_URIS = 100

const TRACK_URI = /^spotify:track:([0-9A-Za-z]{22})$/

/** Track ids from URIs that all name catalogue tracks, or the error message. */
export function trackIds (uris: unknown): string[] | string {
  if (!Array.isArray(uris) || uris.length === 0) return 'No uris provided'
  if (uris.length > MAX_EDIT_URIS) return 'Too many ids requested'
  const ids: string[] = []
  for (const uri of uris) {
    const id = typeof uri === 'string' ? TRACK_URI.exec(uri)?.[1] : undefined
    // The catalogue holds no episodes or local files: anything but one of
    // its tracks is an invalid URI here.
    if (id === undefined || findTrack(id) === undefined) return 'Invalid track uri'
    ids.push(id)
  }
  return ids
}

/** `uris` from the query string (comma separated) or else from the JSON body. */
export function urisOf (fromQuery: string | null, body: Record<string, unknown>): unknown {
  return fromQuery !== null ? fromQuery.split(',').filter((u) => u !== '') : body.uris
}

function entries (ids: readonly string[], addedBy: string, addedAt: number): FixturePlaylistItem[] {
  const at = new Date(addedAt).toISOString().replace(/\.\d{3}Z$/, 'Z')
  return ids.map((trackId) => ({ trackId, added_at: at, added_by: addedBy }))
}

/** Inserts tracks at `position` (appends when it is undefined). */
export function addItems (items: readonly FixturePlaylistItem[], ids: readonly string[], position: unknown, addedBy: string, addedAt: number): FixturePlaylistItem[] | string {
  const at = position === undefined ? items.length : position
  if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at > items.length) return 'Invalid position'
  return [...items.slice(0, at), ...entries(ids, addedBy, addedAt), ...items.slice(at)]
}

/** Replaces every entry with these tracks. */
export function replaceItems (ids: readonly string[], addedBy: string, addedAt: number): FixturePlaylistItem[] {
  return entries(ids, addedBy, addedAt)
}

function index (value: unknown, max: number): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max ? value : undefined
}

/** Moves `range_length` entries from `range_start` to before `insert_before`. */
export function reorderItems (items: readonly FixturePlaylistItem[], body: Record<string, unknown>): FixturePlaylistItem[] | string {
  const start = index(body.range_start, items.length - 1)
  const before = index(body.insert_before, items.length)
  const length = body.range_length === undefined ? 1 : index(body.range_length, items.length)
  if (start === undefined || before === undefined || length === undefined || length === 0 || start + length > items.length) {
    return 'Invalid range'
  }
  const moved = items.slice(start, start + length)
  const rest = [...items.slice(0, start), ...items.slice(start + length)]
  const at = before > start ? before - length : before
  // Inserting inside the moved range itself leaves the order unchanged.
  if (before > start && before < start + length) return [...items]
  return [...rest.slice(0, at), ...moved, ...rest.slice(at)]
}

/** Removes every occurrence of the tracks named in `items: [{ uri }]`. */
export function removeItems (items: readonly FixturePlaylistItem[], body: Record<string, unknown>): FixturePlaylistItem[] | string {
  const tracks = body.items
  if (!Array.isArray(tracks)) return 'Missing required field: items'
  const ids = trackIds(tracks.map((t: unknown) => (t as { uri?: unknown } | null)?.uri))
  if (typeof ids === 'string') return ids
  const gone = new Set(ids)
  return items.filter((i) => !gone.has(i.trackId))
}
