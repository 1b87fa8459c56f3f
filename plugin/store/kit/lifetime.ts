import { randomBytes } from 'node:crypto'
import type { SpotifyToken } from '../types.js'

/*
 * How long what a store keeps lives: a session's record, and a refresh
 * lock. Access-token expiry is never the store's business (a refresh renews
 * the access token): a record whose lifetime followed `expiresAt` would take
 * the refresh token with it.
 */

/**
 * When a session's record lapses by default, in Unix ms: when Spotify stops
 * accepting its refresh token (`refreshTokenExpiresAt`), whatever the
 * refreshes. Past it the session could never be refreshed again.
 */
export function refreshTokenLapsesAt (token: SpotifyToken): number {
  return token.refreshTokenExpiresAt * 1000
}

/**
 * When a session's record lapses, in Unix ms: `ttl` ms after it was written
 * (`writtenAt`, Unix ms: a login or a refresh) when the store has a `ttl`
 * option, otherwise {@link refreshTokenLapsesAt}.
 */
export function lapsesAt (token: SpotifyToken, ttl: number | undefined, writtenAt: number): number {
  return ttl === undefined ? refreshTokenLapsesAt(token) : writtenAt + ttl
}

/**
 * How long a refresh lock must live, in ms. The plugin's `ttlMs` covers the
 * holder's call to Spotify; the holder also reads the record before it and
 * writes it after, each of which may take the store's own timeout for one
 * operation (`operationTimeout`). A shorter lease would let a sibling
 * refresh beside a holder that is only slow.
 */
export function leaseMs (ttlMs: number, operationTimeout: number): number {
  return Math.ceil(ttlMs + 2 * operationTimeout)
}

/**
 * A lock's holder token: 128 random bits. A release deletes the lock only
 * while it still holds this token (the lease may have lapsed and been taken
 * by another holder since).
 */
export function leaseToken (): string {
  return randomBytes(16).toString('base64url')
}
