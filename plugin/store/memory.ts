import { lapsesAt } from './kit/lifetime.js'
import { optionChecks, optionRules } from './kit/options.js'
import type { SpotifyToken, TokenStore } from './types.js'

export interface MemoryStoreOptions {
  /** Most sessions kept; the least recently used goes first. Default 10 000. */
  maxSessions?: number
  /**
   * How long a session lives after its token was obtained (login or last
   * refresh), in ms. Default: until Spotify stops accepting its refresh
   * token (`refreshTokenExpiresAt`). Access-token expiry is never the
   * store's business: a refresh renews the access token.
   */
  ttl?: number
}

/**
 * A token store in this process's memory: the default, for one instance.
 * Lapsed entries are dropped when read, so no timer runs. The token object is
 * the entry itself, dated by its `obtainedAt` (bench/README.md measures why).
 */
export function memoryStore (options: MemoryStoreOptions = {}): TokenStore {
  const option = optionChecks('memoryStore')
  const maxSessions = option.withDefault('maxSessions', options.maxSessions, optionRules.positiveInteger, 10_000)
  const ttl = option.optional('ttl', options.ttl, optionRules.positiveMs)
  const entries = new Map<string, SpotifyToken>()
  // One process, one window: apps in this process that share the store
  // share Spotify's rate-limit window too.
  let limitedUntil = 0

  function write (sessionId: string, token: SpotifyToken): void {
    // Re-inserting moves the key to the end of the Map's order, on reads as
    // on writes, which makes the first key the least recently used one.
    // Evicting by use, not by write: a flood of new logins pushes out
    // abandoned sessions, not the ones people are using.
    entries.delete(sessionId)
    entries.set(sessionId, token)
    if (entries.size > maxSessions) entries.delete(entries.keys().next().value as string)
  }

  function lapsed (token: SpotifyToken): boolean {
    return lapsesAt(token, ttl, token.obtainedAt * 1000) <= Date.now()
  }

  function read (sessionId: string): SpotifyToken | undefined {
    const token = entries.get(sessionId)
    if (token === undefined) return undefined
    entries.delete(sessionId)
    if (lapsed(token)) return undefined
    entries.set(sessionId, token)
    return token
  }

  return {
    rateLimit: {
      hold (untilMs) { limitedUntil = Math.max(limitedUntil, untilMs) },
      until: () => limitedUntil
    },
    async get (sessionId) {
      return read(sessionId)
    },
    async set (sessionId, token) {
      write(sessionId, token)
    },
    async update (sessionId, previous, next) {
      const current = read(sessionId)
      if (current === undefined || current.refreshes !== previous.refreshes) return false
      write(sessionId, next)
      return true
    },
    async delete (sessionId, expected) {
      if (expected !== undefined && read(sessionId)?.refreshes !== expected.refreshes) return
      entries.delete(sessionId)
    },
    async sessionsOf (userId) {
      // No index to keep: a scan of the sessions, in their least recently
      // used order, costs a login (the only frequent caller) well under a
      // millisecond at the default bound, and the hot path nothing.
      const live: string[] = []
      for (const [sessionId, token] of entries) {
        if (token.userId !== userId) continue
        if (lapsed(token)) entries.delete(sessionId)
        else live.push(sessionId)
      }
      return live
    }
  }
}
