import { lapsesAt, leaseMs, leaseToken } from '../kit/lifetime.js'
import type { SealedRecords } from '../kit/records.js'
import type { SpotifyToken, TokenStore } from '../types.js'
import type { RedisConnection } from './connection.js'
import type { Guard } from './guard.js'
import type { RedisKeys } from './keys.js'
import { DELETE, GET, INDEX, REAUTH, SET, UNLOCK, UPDATE } from './scripts.js'

/**
 * A session's entry in the refresh-horizon index: its user-index entry (the
 * index's name and the sealed id, as the record keeps them), so that the
 * record's delete, which returns those, also finds this entry.
 */
function reauthMember (userIndex: string, member: string): string {
  return `${userIndex}\n${member}`
}

function splitReauthMember (entry: string): [userIndex: string, member: string] {
  const at = entry.lastIndexOf('\n')
  return [entry.slice(0, at), entry.slice(at + 1)]
}

/** What the Redis store's records are made of. */
export interface RedisStoreParts {
  readonly connection: RedisConnection
  readonly keys: RedisKeys
  readonly records: SealedRecords
  /** Every command goes through it. */
  readonly guard: Guard
  /** The `ttl` option: records then live that long after their last write. */
  readonly ttl: number | undefined
  /** Longest wait for one command, in ms: a lock covers its holder's read and write on top of its call to Spotify. */
  readonly commandTimeout: number
}

/**
 * The Redis store's records, index and lock: one Lua script per write, so
 * that a record and its names change together. Its capabilities of pub/sub
 * (./events.ts) and durability (./durability.ts) wrap it.
 *
 * A user's index (`keys.indexes`) is a sorted set of their sessions, scored
 * by the time of the last write (login or refresh), members sealed. Entries
 * are advisory: `sessionsOf` checks that each record still exists, so an
 * index write that fails after the record's write leaves nothing wrong
 * behind.
 */
export function redisTokenStore ({ connection, keys, records, guard, ttl, commandTimeout }: RedisStoreParts): TokenStore {
  /** Files the session under its user, scored by now; a record that has already lapsed is not filed. */
  async function index (userIndex: string, member: string, token: SpotifyToken): Promise<void> {
    const expiry = lapsesAt(token, ttl, Date.now())
    if (expiry > Date.now()) await guard(() => connection.script(INDEX, [userIndex], [member, expiry]))
  }

  /**
   * Takes deleted or replaced records' sessions out of their users' indexes
   * and out of the refresh-horizon index: `[index, member, index, member…]`.
   */
  async function unindex (flat: string[]): Promise<void> {
    const removals: Array<Promise<void>> = []
    const horizons: string[] = []
    for (let i = 0; i < flat.length; i += 2) {
      const [userIndex, member] = [flat[i] as string, flat[i + 1] as string]
      removals.push(guard(() => connection.removeMembers(userIndex, [member])))
      horizons.push(reauthMember(userIndex, member))
    }
    if (horizons.length > 0) removals.push(guard(() => connection.removeMembers(keys.reauth, horizons)))
    await Promise.all(removals)
  }

  return {
    async ping () {
      await guard(() => connection.ping())
    },
    async get (sessionId) {
      const names = keys.records(sessionId)
      const found = await guard(() => connection.script(GET, names, [])) as [number, string, string] | null
      if (found === null) return undefined
      const [at, data, version] = found
      // A record that does not open (tampered with, moved to another
      // session's name, its version edited) counts as no session.
      return records.open(data, names[at - 1] as string, version)
    },
    async set (sessionId, token) {
      const names = keys.records(sessionId)
      const userIndex = keys.indexes(token.userId)[0] as string
      const member = records.member(sessionId, userIndex)
      const replaced = await guard(() => connection.script(SET, names,
        [token.refreshes, records.seal(token, names[0] as string), lapsesAt(token, ttl, Date.now()), userIndex, member])) as string[]
      await unindex(replaced)
      await index(userIndex, member, token)
      // Only a login sets: refreshes keep the refresh token's horizon.
      await guard(() => connection.script(REAUTH, [keys.reauth],
        [token.refreshTokenExpiresAt, reauthMember(userIndex, member), Math.floor(Date.now() / 1000)]))
    },
    async update (sessionId, previous, next) {
      const names = keys.records(sessionId)
      const written = await guard(() => connection.script(UPDATE, names,
        [previous.refreshes, next.refreshes, records.seal(next, names[0] as string), lapsesAt(next, ttl, Date.now())]))
      if (written === 0) return false
      // A refresh counts as use: the session moves to the end of its user's list.
      const [userIndex, member] = written as [string, string]
      await index(userIndex, member, next)
      return true
    },
    async delete (sessionId, expected) {
      const names = keys.records(sessionId)
      const found = await guard(() => connection.script(DELETE, names, expected === undefined ? [] : [expected.refreshes])) as string[] | null
      if (found !== null) await unindex(found)
    },
    async sessionsExpiringBefore (time) {
      // Entries are advisory, like the user index's: each is checked against
      // its record, and those whose record is gone are dropped here.
      const entries = (await guard(() => connection.scored(keys.reauth))).filter(([, score]) => score < time)
      const ids = entries.map(([entry]) => {
        const [userIndex, member] = splitReauthMember(entry)
        return records.sessionOf(member, userIndex)
      })
      const alive = await Promise.all(ids.map(async (sessionId) =>
        sessionId !== undefined && await guard(() => connection.exists(keys.records(sessionId))) > 0))
      const dead = entries.filter((_, i) => alive[i] !== true).map(([member]) => member)
      if (dead.length > 0) await guard(() => connection.removeMembers(keys.reauth, dead))
      return [...new Set(ids.filter((_, i) => alive[i] === true) as string[])]
    },
    async sessionsOf (userId) {
      // Every index name the user may have (a secret rotation moves them),
      // oldest write first; entries whose record lapsed are dropped here.
      const listed: Array<{ index: string, member: string, sessionId: string | undefined, score: number }> = []
      const indexes = keys.indexes(userId)
      // One command per index name, all in flight together (each index is a
      // key of its own, maybe in a slot of its own).
      const ranges = await Promise.all(indexes.map((userIndex) => guard(() => connection.scored(userIndex))))
      indexes.forEach((userIndex, i) => {
        for (const [member, score] of ranges[i] as Array<[string, number]>) {
          listed.push({ index: userIndex, member, sessionId: records.sessionOf(member, userIndex), score })
        }
      })
      listed.sort((a, b) => a.score - b.score)
      // Whether each record exists: one EXISTS per session (its names share
      // a slot), all in flight together.
      const alive = await Promise.all(listed.map(async ({ sessionId }) =>
        sessionId !== undefined && await guard(() => connection.exists(keys.records(sessionId))) > 0))
      const dead = new Map<string, string[]>()
      listed.forEach((entry, i) => {
        if (alive[i] === true) return
        dead.set(entry.index, [...dead.get(entry.index) ?? [], entry.member])
      })
      await Promise.all([...dead].map(([userIndex, members]) => guard(() => connection.removeMembers(userIndex, members))))
      return listed.filter((_, i) => alive[i] === true).map((entry) => entry.sessionId as string)
    },
    async lock (sessionId, ttlMs) {
      const key = keys.lock(sessionId)
      const token = leaseToken()
      const taken = await guard(() => connection.setIfAbsent(key, token, leaseMs(ttlMs, commandTimeout)))
      if (!taken) return undefined
      return async () => {
        await guard(() => connection.script(UNLOCK, [key], [token]))
      }
    }
  }
}
