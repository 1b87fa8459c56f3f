import { randomBytes } from 'node:crypto'
import { within } from './store/kit/within.js'
import type { TokenStore } from './store/types.js'
import type { RateLimitGate } from './web-api/rate-limit.js'

/** What `fastify.spotify.health()` resolves: for a readiness route, no call to Spotify. */
export interface SpotifyHealth {
  /** `'ok'` when the token store answered a round trip within a second, `'unavailable'` otherwise. */
  readonly store: 'ok' | 'unavailable'
  /**
   * Until when Spotify's rate limit holds the app's Web API calls back
   * (Unix time in ms, from any instance sharing the store), or `null` when
   * no window is open. Logins and refreshes still work meanwhile.
   */
  readonly rateLimitedUntil: number | null
}

/**
 * A readiness probe answers fast or not at all: a store that takes longer
 * than this counts as unavailable, whatever its own command timeout.
 */
export const HEALTH_TIMEOUT = 1000

/**
 * `fastify.spotify.health()`: the store's `ping` (or, for a store without
 * one, a `get` of an id no session has: it still costs the store a round
 * trip), bounded by `HEALTH_TIMEOUT`, and the rate-limit window as the call
 * policy sees it. Never rejects: a readiness route maps the answer.
 */
export function healthCheck (store: TokenStore, gate: RateLimitGate): () => Promise<SpotifyHealth> {
  // Called as a method: a store may be a class instance.
  const probe = store.ping === undefined
    ? async () => { await store.get(randomBytes(32).toString('base64url')) }
    : () => (store as Required<Pick<TokenStore, 'ping'>>).ping()
  return async () => {
    let reachable: boolean
    try {
      // A store that throws instead of rejecting is unavailable too.
      await within('the token store', HEALTH_TIMEOUT, async () => await probe())
      reachable = true
    } catch {
      reachable = false
    }
    const until = gate.until()
    return { store: reachable ? 'ok' : 'unavailable', rateLimitedUntil: until > Date.now() ? until : null }
  }
}
