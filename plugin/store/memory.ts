import { LruMap } from 'toad-cache'
import { storeKind } from '../diagnostics/store.js'
import { lapsesAt } from './kit/lifetime.js'
import { optionChecks, optionRules } from './kit/options.js'
import type { RateLimitReason, SpotifyToken, TokenStore } from './types.js'

/** `memoryStore`'s options. */
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

/** An entry of toad-cache's list, least recently used first (`first`, then `next`). */
interface Entry {
  readonly key: string
  readonly value: SpotifyToken
  readonly next: Entry | null
}

/**
 * A token store in this process's memory: the default, for one instance.
 * Least recently used first out, counting reads as use: a flood of new
 * logins pushes out abandoned sessions, not the ones people are using.
 * Lapsed entries are dropped when read, so no timer runs. The token object is
 * the entry itself, dated by its `obtainedAt` (bench/README.md measures why).
 */
export function memoryStore (options: MemoryStoreOptions = {}): TokenStore {
  const option = optionChecks('memoryStore')
  const maxSessions = option.withDefault('maxSessions', options.maxSessions, optionRules.positiveInteger, 10_000)
  const ttl = option.optional('ttl', options.ttl, optionRules.positiveMs)
  // No time-to-live of the cache's own: a session's lifetime is its token's.
  const entries = new LruMap<SpotifyToken>(maxSessions)
  // One process, one window: apps in this process that share the store
  // share Spotify's rate-limit window too.
  let limitedUntil = 0
  let limitedFor: RateLimitReason | undefined

  function lapsed (token: SpotifyToken): boolean {
    return lapsesAt(token, ttl, token.obtainedAt * 1000) <= Date.now()
  }

  /** The live token, now the most recently used; a lapsed one is dropped. */
  function read (sessionId: string): SpotifyToken | undefined {
    const token = entries.get(sessionId)
    if (token === undefined || !lapsed(token)) return token
    entries.delete(sessionId)
    return undefined
  }

  return storeKind('memory', {
    rateLimit: {
      hold (untilMs, reason) {
        if (untilMs <= limitedUntil) return
        limitedUntil = untilMs
        limitedFor = reason
      },
      until: () => limitedUntil,
      reason: () => limitedFor
    },
    // In this process's memory: always reachable.
    async ping () {},
    async get (sessionId) {
      return read(sessionId)
    },
    async set (sessionId, token) {
      entries.set(sessionId, token)
    },
    async update (sessionId, previous, next) {
      const current = read(sessionId)
      if (current === undefined || current.refreshes !== previous.refreshes) return false
      entries.set(sessionId, next)
      return true
    },
    async delete (sessionId, expected) {
      if (expected !== undefined && read(sessionId)?.refreshes !== expected.refreshes) return
      entries.delete(sessionId)
    },
    async sessionsExpiringBefore (time) {
      // A walk like sessionsOf's, for a background job: it touches no
      // entry's recency.
      const found: Array<[string, number]> = []
      let next = entries.first as Entry | null
      while (next !== null) {
        const entry = next
        next = entry.next
        if (entry.value.refreshTokenExpiresAt >= time) continue
        if (lapsed(entry.value)) entries.delete(entry.key)
        else found.push([entry.key, entry.value.refreshTokenExpiresAt])
      }
      return found.sort((a, b) => a[1] - b[1]).map(([sessionId]) => sessionId)
    },
    async sessionsOf (userId) {
      // No index to keep: a walk of the sessions, least recently used
      // first, costs a login (the only frequent caller) well under a
      // millisecond at the default bound, and the hot path nothing.
      const live: string[] = []
      let next = entries.first as Entry | null
      while (next !== null) {
        const entry = next
        next = entry.next
        if (entry.value.userId !== userId) continue
        if (lapsed(entry.value)) entries.delete(entry.key)
        else live.push(entry.key)
      }
      return live
    }
  })
}
