import { createHash } from 'node:crypto'
import type { SealedRecords } from '../kit/records.js'

/**
 * Where the Redis store keeps what. Every key of one session (its record
 * under each secret's name, its refresh lock) carries the same hash tag, so
 * that on Redis Cluster they live in one slot and one Lua script may touch
 * them all; different sessions get different tags, so sessions spread over
 * the cluster. A user's index is per user, in a slot of its own: no script
 * touches it together with a session's keys.
 *
 *   <prefix>s:{<tag>}<name>      a record: hash { v: version, d: sealed data, u: index key, m: index member, w: durability stamp }, one name per secret
 *   <prefix>lock:{<tag>}<name>   the refresh lock, named with the current secret
 *   <prefix>u:<name>             a user's index: sorted set, one name per secret
 *   <prefix>rate-limit:<app>     the rate-limit window of one Spotify app (./keys.ts appName): until when (Unix ms)
 *   <prefix>reauth               every session by when its refresh token ends: sorted set (Unix s), members sealed
 *   <keyPrefix><prefix>events    the pub/sub channel (a channel is no key: the client's keyPrefix is added here)
 */
export interface RedisKeys {
  /** The record's candidate names, newest secret first, all in one slot. */
  records (sessionId: string): string[]
  /** The refresh lock, in the record's slot. */
  lock (sessionId: string): string
  /** A user's index names, newest secret first. */
  indexes (userId: string): string[]
  /** Every session by when its refresh token ends. */
  readonly reauth: string
}

/**
 * A session's hash tag: four base64url characters (24 bits, enough to spread
 * over Cluster's 16 384 slots) of an unkeyed SHA-256 of the session id. It
 * must not depend on the secret, or a rotation would split a record's names
 * over two slots. Unkeyed is safe here because the session id is 256 random
 * bits and itself the secret: 24 bits of its hash leave 232 unknown, do not
 * let anyone find the id or the cookie, and a record's name still needs the
 * naming key (an HMAC) to be found.
 */
export function sessionTag (sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url').slice(0, 4)
}

/** The layout under `prefix`, named by `records` (the names carry no id). */
export function redisKeys (prefix: string, records: SealedRecords): RedisKeys {
  return {
    records (sessionId) {
      const tag = sessionTag(sessionId)
      return records.names(sessionId).map((name) => `${prefix}s:{${tag}}${name}`)
    },
    lock (sessionId) {
      return `${prefix}lock:{${sessionTag(sessionId)}}${records.names(sessionId)[0] as string}`
    },
    indexes (userId) {
      return records.userNames(userId).map((name) => `${prefix}u:${name}`)
    },
    reauth: `${prefix}reauth`
  }
}

/**
 * What the store calls a Spotify app: an unkeyed SHA-256 of its client id
 * (96 bits of it). Spotify counts its rate limit per client id, so the
 * window is named after the client id, not after the plugin's secret:
 * instances of one app (or apps that really share a client id) share the
 * window, and two apps on one prefix never do. Hashed so that the key and
 * the messages show no id, though a client id is no secret (it is in every
 * authorize URL).
 */
export function appName (clientId: string): string {
  return createHash('sha256').update(`spotify-client-id:${clientId}`).digest('base64url').slice(0, 16)
}

/** The rate-limit window of the app named `app` ({@link appName}). */
export function rateLimitKey (prefix: string, app: string): string {
  return `${prefix}rate-limit:${app}`
}

/** The store's pub/sub channel: `keyPrefix` is the client's own, which Redis adds to keys but not to channels. */
export function eventsChannel (keyPrefix: string, prefix: string): string {
  return `${keyPrefix}${prefix}events`
}
