import { kPeek } from './peek.js'
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
  const maxSessions = options.maxSessions ?? 10_000
  const ttl = options.ttl
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new TypeError('fastify-spotify-auth: memoryStore maxSessions must be a positive integer')
  }
  if (ttl !== undefined && (!Number.isFinite(ttl) || ttl <= 0)) {
    throw new TypeError('fastify-spotify-auth: memoryStore ttl must be a positive number of ms')
  }
  const entries = new Map<string, SpotifyToken>()
  // Each user's session ids, in the same least-recently-used order.
  const byUser = new Map<string, Set<string>>()

  function touch (sessionId: string, token: SpotifyToken): void {
    // Re-inserting moves the key to the end of the Map's order, on reads as
    // on writes, which makes the first key the least recently used one.
    // Evicting by use, not by write: a flood of new logins pushes out
    // abandoned sessions, not the ones people are using.
    entries.delete(sessionId)
    entries.set(sessionId, token)
    let sessions = byUser.get(token.userId)
    if (sessions === undefined) byUser.set(token.userId, sessions = new Set())
    sessions.delete(sessionId)
    sessions.add(sessionId)
  }

  function remove (sessionId: string): void {
    const token = entries.get(sessionId)
    if (token === undefined) return
    entries.delete(sessionId)
    const sessions = byUser.get(token.userId) as Set<string>
    sessions.delete(sessionId)
    if (sessions.size === 0) byUser.delete(token.userId)
  }

  function write (sessionId: string, token: SpotifyToken): void {
    // A record may change hands only by a new login (set): drop the old index entry first.
    remove(sessionId)
    touch(sessionId, token)
    if (entries.size > maxSessions) remove(entries.keys().next().value as string)
  }

  function lapsed (token: SpotifyToken): boolean {
    const lapsesAt = ttl === undefined ? token.refreshTokenExpiresAt * 1000 : token.obtainedAt * 1000 + ttl
    return lapsesAt <= Date.now()
  }

  function read (sessionId: string): SpotifyToken | undefined {
    const token = entries.get(sessionId)
    if (token === undefined) return undefined
    if (lapsed(token)) {
      remove(sessionId)
      return undefined
    }
    touch(sessionId, token)
    return token
  }

  const store: TokenStore = {
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
      remove(sessionId)
    },
    async sessionsOf (userId) {
      // Listing is not using: the order is left as it is, lapsed sessions go.
      const live: string[] = []
      for (const sessionId of byUser.get(userId) ?? []) {
        if (lapsed(entries.get(sessionId) as SpotifyToken)) remove(sessionId)
        else live.push(sessionId)
      }
      return live
    }
  }
  return Object.assign(store, { [kPeek]: read })
}
