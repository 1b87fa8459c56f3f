import { RefreshBusyError, SessionRevokedError } from '../../errors.js'
import { clientRefused, TokenRefusedError } from '../../accounts/token-endpoint.js'
import { storeCall, storeFailure, summaryOf } from '../../failures.js'
import type { RefreshTokenEnd } from '../../options.js'
import type { SpotifyToken, TokenStore } from '../../store/types.js'
import { hasMovedOn } from '../../token-versions.js'
import { sessionEnded } from '../../diagnostics/session-events.js'
import type { SessionTag } from '../../diagnostics/session-tag.js'
import { isInDoubt, noteRefusal, withdrawMark } from './attempt-mark.js'

/** How close to the refresh token's lifetime a refusal counts as its expiry, in seconds. */
const EXPIRY_LEEWAY_S = 60

/** The session whose refresh from `stale` Spotify did not answer with a token. */
export interface RefusedSession {
  readonly store: TokenStore
  readonly sessionId: string
  /** The record as read before this attempt (before its mark). */
  readonly stale: SpotifyToken
  /** Reads the session again, the way the engine does. */
  readonly read: (sessionId: string) => Promise<SpotifyToken | undefined>
  /** How the session is named on the diagnostics channels. */
  readonly tag: SessionTag
  /** Told once Spotify's refusal has ended the session. */
  readonly ended: (reason: RefreshTokenEnd) => Promise<void>
}

/**
 * Why Spotify refused the refresh token. Spotify says it in the
 * description ("Refresh token expired" / "Refresh token revoked"); the
 * token's own six-month horizon says it too, whatever the wording. Only a
 * label for the app and the logs: the decision (end the session) goes by
 * the error code alone.
 */
export function endReason (err: TokenRefusedError, stale: SpotifyToken, now = Date.now()): RefreshTokenEnd {
  // At the refresh token's lifetime, the refusal was its expiry (a store
  // keeps the session until then; Spotify's clock may be ahead).
  const expired = stale.refreshTokenExpiresAt - EXPIRY_LEEWAY_S <= now / 1000 || /\bexpired\b/i.test(err.description ?? '')
  return expired ? 'refresh-token-expired' : 'refresh-token-revoked'
}

/**
 * What a failed refresh does to the session: resolves the token to use
 * instead (a sibling's, that replaced `stale`), or rejects with the error
 * for the request. Only Spotify's `invalid_grant` ends a session.
 */
export async function afterFailedRefresh (err: unknown, { store, sessionId, stale, read, tag, ended }: RefusedSession): Promise<SpotifyToken> {
  if (!(err instanceof TokenRefusedError)) {
    // Down or slow (already a 502/504): the stored token is untouched and
    // the next request tries again. The attempt's mark stays: Spotify may
    // have rotated the token and its answer been lost.
    throw err
  }
  if (err.error !== 'invalid_grant') {
    // A refused client: the session is kept for when the configuration is fixed.
    await withdrawMark(store, sessionId, stale)
    throw clientRefused(err)
  }
  // Revoked, unknown or past its lifetime: no retry can help, and the
  // session must not linger to fail again on every request. Unless a
  // sibling rotated the refresh token under us (a lost race, or a lock
  // that expired mid-refresh): then the record has moved on, is not
  // deleted, and its token is good. A store that cannot vouch yet that
  // it holds every write (a failover under way: the rotated token may
  // be on its way back from another process's memory) keeps the
  // session: 503 now, and the verdict on a later request. So does a
  // record that another refresh marked recently, whose outcome is
  // unknown: that process may hold the rotated token, its link to the
  // store down, and write it once the link is back.
  if (store.settled?.(sessionId) === false) {
    await withdrawMark(store, sessionId, stale)
    throw storeFailure(new Error('the store is settling after a failover'))
  }
  const inDoubt = isInDoubt(stale)
  await (inDoubt ? noteRefusal(store, sessionId, stale) : storeCall(() => store.delete(sessionId, stale)))
  const current = await read(sessionId)
  if (current === undefined) {
    const reason = endReason(err, stale)
    sessionEnded(tag, sessionId, reason === 'refresh-token-expired' ? 'expired' : 'revoked')
    await ended(reason)
    throw new SessionRevokedError({ cause: summaryOf(err) })
  }
  if (!inDoubt || hasMovedOn(current, stale)) return current
  throw new RefreshBusyError()
}
