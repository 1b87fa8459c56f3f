import { storeCall } from '../../failures.js'
import type { SpotifyToken, TokenStore } from '../../store/types.js'

/**
 * How long after a refresh of a version started Spotify's `invalid_grant`
 * for that version is doubt, not proof of revocation: the process that
 * started it may hold the rotated refresh token unsaved (its link to the
 * store down) and write it once its link is back. Past this, the session
 * ends as a revoked one does. Long enough for a link to come back; short
 * enough that a session revoked after an interrupted refresh ends soon.
 */
export const DOUBT_MS = 10 * 60 * 1000

/*
 * Why a mark: a process that refreshed, got a rotated refresh token and
 * could not store it leaves nothing behind that outlives its lock (which
 * must lapse, in case it died). Another process then refreshes with the
 * dead refresh token, and cannot tell Spotify's refusal from a revocation.
 * The mark, written before any call to Spotify, is what tells them apart.
 */

function isRecent (token: SpotifyToken, now: number): boolean {
  return token.refreshStartedAt !== undefined && token.refreshStartedAt * 1000 + DOUBT_MS > now
}

/**
 * `current` as it goes to Spotify: marked as being refreshed since now, or
 * since a recent mark's time (the earliest attempt decides when doubt ends:
 * later attempts must not prolong it). An old mark gives way, as does its
 * refusal: it is no longer evidence of anything.
 */
function marked (current: SpotifyToken, now: number): SpotifyToken {
  if (isRecent(current, now)) return current
  const { refreshStartedAt: _started, refreshRefused: _refused, ...token } = current
  return { ...token, refreshStartedAt: Math.floor(now / 1000) }
}

/**
 * Marks the record as being refreshed, through the store's compare-and-set
 * at its own version; resolves `false` when it has moved on meanwhile. No
 * call to Spotify may start before this resolves `true`: a rotation the
 * store does not know was attempted could not be told from a revocation.
 */
export function markAttempt (store: TokenStore, sessionId: string, current: SpotifyToken): Promise<boolean> {
  return storeCall(() => store.update(sessionId, current, marked(current, Date.now())))
}

/**
 * Takes this attempt's mark back once Spotify refused it with an OAuth
 * error (nothing was rotated): `before`, the record as read before the
 * attempt, is written again, an earlier mark included. A mark left behind
 * would make the next refusal of this version look doubtful. A failure or
 * a timeout leaves the mark: Spotify may have rotated the token.
 */
export function withdrawMark (store: TokenStore, sessionId: string, before: SpotifyToken): Promise<boolean> {
  return storeCall(() => store.update(sessionId, before, before))
}

/**
 * `before` (the record as read before this attempt) carries a recent mark:
 * another refresh of this version started and its outcome is unknown, so
 * Spotify's refusal of this one proves nothing.
 */
export function isInDoubt (before: SpotifyToken): boolean {
  return isRecent(before, Date.now())
}

/** Spotify has already refused this version while in doubt: asking again would get the same answer. */
export function isRefusedInDoubt (before: SpotifyToken): boolean {
  return before.refreshRefused === true && isRecent(before, Date.now())
}

/**
 * Notes Spotify's refusal on the record (same version, mark kept), so that
 * until the doubt ends, or the other refresh's write lands, requests wait
 * without another call to Spotify. Resolves `false` when the record has
 * moved on meanwhile.
 */
export function noteRefusal (store: TokenStore, sessionId: string, before: SpotifyToken): Promise<boolean> {
  return storeCall(() => store.update(sessionId, before, { ...before, refreshRefused: true }))
}
