import type { SpotifyToken } from './store/types.js'

/*
 * A stored token's `refreshes` is also its record's version: a refresh
 * writes version n + 1 only over version n. These read what a record's
 * version says; stores may hand back copies, so nothing here compares
 * objects by identity.
 */

/** The stored record is no longer at `stale`'s version: deleted, or refreshed by someone else. */
export function hasMovedOn (stored: SpotifyToken | undefined, stale: SpotifyToken): boolean {
  return stored === undefined || stored.refreshes !== stale.refreshes
}

/** The stored record is `written` itself: its version, with its access token. */
export function isWrittenToken (stored: SpotifyToken | undefined, written: SpotifyToken): boolean {
  return stored !== undefined && stored.refreshes === written.refreshes && stored.accessToken === written.accessToken
}
