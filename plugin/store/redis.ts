import { randomBytes } from 'node:crypto'
import { within } from './kit/within.js'
import { createSealer } from './kit/sealing.js'
import { checkDurability, durableStore, type RedisDurabilityOptions } from './redis-durability.js'
import { failFast } from './fail-fast.js'
import { redisKeys } from './redis-keys.js'
import { isConnectionFailure } from './redis-failures.js'
import { RedisEvents, type RedisSubscriber } from './redis-events.js'
import type { SpotifyToken, StoreContext, StoreFactory, TokenStore } from './types.js'

/**
 * The part of an ioredis client the store uses. `new Redis(…)` (also with
 * `sentinels`), `new Cluster(…)` from `ioredis`, and the client of
 * `@fastify/redis` all fit.
 */
export interface RedisClient {
  readonly status: string
  defineCommand (name: string, definition: { lua: string, numberOfKeys: number }): void
  call (command: string, ...args: Array<string | number>): Promise<unknown>
  /** A new connection with the same options: the store subscribes on one (see `pubsub`). */
  duplicate? (): RedisSubscriber
}

export interface RedisStoreOptions {
  /** A connected ioredis client. The store never closes it: it is yours. */
  client: RedisClient
  /** Prefix of every key the store writes. Default `spotify-auth:`. */
  prefix?: string
  /**
   * How long a session lives after its last write (login or refresh), in ms.
   * Default: until Spotify stops accepting its refresh token
   * (`refreshTokenExpiresAt`).
   */
  ttl?: number
  /** Longest wait for one Redis command, in ms, before the request gets 503. Default 2000. */
  commandTimeout?: number
  /**
   * Waits for replicas to acknowledge every login and refresh (`WAIT`), so
   * that a failover cannot lose a rotated refresh token. Default: off (a
   * write counts once the master has it). See "Durability" in the README.
   */
  durability?: RedisDurabilityOptions
  /**
   * Subscribe on a connection of the store's own (`client.duplicate()`,
   * closed when the plugin closes) to share the app's rate-limit window
   * and to hear of refreshes at once. Default true; `false` where pub/sub
   * is not available: each instance then keeps its own window, and waiters
   * poll.
   */
  pubsub?: boolean
  /**
   * After a command fails for want of a connection or a master (timeout,
   * `CLUSTERDOWN`, `TRYAGAIN`, `MOVED` loops, `READONLY`, `Connection is
   * closed`…), answer 503 at once for this many ms instead of sending more
   * commands that would hang: a Cluster client stays `ready` through a
   * failover. Default 1000; 0 turns it off.
   */
  failFastFor?: number
}

// Every script takes the record's candidate names, newest key first, all in
// one hash slot (./redis-keys.ts): a record sealed before a `secret` rotation
// is still found under its old name and moves to the new one on its next
// write. No script touches a user's index: that is another slot on Cluster.

/** → [index of the name found (1-based), sealed data, version] or nil. */
const GET = `
for i, key in ipairs(KEYS) do
  local record = redis.call('HMGET', key, 'd', 'v')
  if record[1] then return { i, record[1], record[2] } end
end
return nil`

/**
 * Creates or overwrites the record under the newest name.
 * ARGV: version, data, expiry (Unix ms), user index key, index member.
 * → the user index key and member of every record it replaced, flat.
 */
const SET = `
local replaced = {}
for i, key in ipairs(KEYS) do
  local old = redis.call('HMGET', key, 'u', 'm')
  if old[1] then
    table.insert(replaced, old[1])
    table.insert(replaced, old[2])
  end
  redis.call('DEL', key)
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2], 'u', ARGV[4], 'm', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return replaced`

/**
 * Compare-and-set on the version (the fencing token): writes only over
 * the expected version of an existing record, so that neither a slower
 * sibling nor a refresh that outlived a logout can overwrite.
 * ARGV: expected version, new version, data, expiry (Unix ms).
 * → the record's [user index key, index member]; 0 when there is no record at that version.
 */
const UPDATE = `
for i, key in ipairs(KEYS) do
  local version = redis.call('HGET', key, 'v')
  if version then
    if version ~= ARGV[1] then return 0 end
    if i ~= 1 then redis.call('RENAME', key, KEYS[1]) end
    redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])
    redis.call('PEXPIREAT', KEYS[1], ARGV[4])
    return redis.call('HMGET', KEYS[1], 'u', 'm')
  end
end
return 0`

/**
 * Deletes every name of a record; with ARGV[1], only while it is at that
 * version. → the record's [user index key, index member], or nil.
 */
const DELETE = `
local found = nil
for i, key in ipairs(KEYS) do
  local record = redis.call('HMGET', key, 'v', 'u', 'm')
  if record[1] then
    if ARGV[1] and record[1] ~= ARGV[1] then return nil end
    found = { record[2], record[3] }
  end
end
redis.call('DEL', unpack(KEYS))
return found`

/**
 * Files a session in its user's index, scored by Redis's own clock in
 * microseconds (one clock for every instance, and always after the last
 * entry), and keeps the index at least as long as that session's record
 * (never shorter: other sessions may last longer).
 * ARGV: member, expiry (Unix ms).
 */
const INDEX = `
local now = redis.call('TIME')
local score = now[1] * 1000000 + now[2]
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 1 end
redis.call('ZADD', KEYS[1], score, ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or now[1] * 1000 + math.floor(now[2] / 1000) + ttl < tonumber(ARGV[2]) then
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return 1`

/** Releases a lock only if it still holds our token (it may have expired and been taken). */
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

type Command = (...args: Array<string | number>) => Promise<unknown>

/**
 * A token store in Redis, shared by every instance of an app. Records are
 * encrypted (AES-256-GCM) and named by an HMAC of the session id, with keys
 * derived from the plugin's `secret`; writes are compare-and-set; `lock`
 * gives one refresh per session across the cluster. Works on a single
 * server, behind Sentinel and on Redis Cluster (a session's keys share one
 * hash tag: ./redis-keys.ts).
 *
 * Returns a store factory: pass it as the plugin's `store`, which builds it
 * with the plugin's secret at register time (and fails `register` when Redis
 * cannot be reached). On its own: `await redisStore({ client })({ secrets })`.
 */
export function redisStore (options: RedisStoreOptions): StoreFactory {
  const client = options.client
  if (typeof client !== 'object' || client === null || typeof client.defineCommand !== 'function' || typeof client.call !== 'function') {
    throw new TypeError('fastify-spotify-auth: redisStore options.client must be an ioredis client')
  }
  const prefix = options.prefix ?? 'spotify-auth:'
  if (typeof prefix !== 'string') throw new TypeError('fastify-spotify-auth: redisStore options.prefix must be a string')
  const ttl = options.ttl
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) throw new TypeError('fastify-spotify-auth: redisStore options.ttl must be a positive integer of ms')
  const commandTimeout = options.commandTimeout ?? 2000
  if (!Number.isFinite(commandTimeout) || commandTimeout <= 0) {
    throw new TypeError('fastify-spotify-auth: redisStore options.commandTimeout must be a positive number of ms')
  }
  const durability = checkDurability(options.durability)
  const failFastFor = options.failFastFor ?? 1000
  if (!Number.isFinite(failFastFor) || failFastFor < 0) {
    throw new TypeError('fastify-spotify-auth: redisStore options.failFastFor must be a number of ms, 0 or more')
  }
  const pubsub = options.pubsub ?? true
  if (typeof pubsub !== 'boolean') throw new TypeError('fastify-spotify-auth: redisStore options.pubsub must be a boolean')
  return async (context: StoreContext) => {
    if (client.status !== 'ready') {
      // Start-up waits for a connecting client (a queued PING), but not forever.
      try {
        await within('Redis', commandTimeout, () => client.call('PING'))
      } catch (cause) {
        throw new Error(`fastify-spotify-auth: the Redis store cannot reach Redis (${(cause as Error).message})`, { cause })
      }
    }
    const store = createRedisStore(client, prefix, ttl, commandTimeout, failFastFor, context.secrets, durability)
    if (!pubsub) return store
    let events: RedisEvents | undefined
    try {
      events = await RedisEvents.open(client, { prefix, commandTimeout, secrets: context.secrets })
    } catch (cause) {
      throw new Error(`fastify-spotify-auth: the Redis store cannot subscribe (${(cause as Error).message})`, { cause })
    }
    return events === undefined ? store : events.around(store)
  }
}

function createRedisStore (client: RedisClient, prefix: string, ttl: number | undefined, commandTimeout: number, failFastFor: number, secrets: readonly string[],
  durability: Required<RedisDurabilityOptions> | undefined): TokenStore {
  const sealer = createSealer(secrets)
  const keys = redisKeys(prefix, sealer)
  const breaker = failFast(failFastFor)
  // Lua registered once, sent by SHA afterwards (ioredis falls back to EVAL).
  // The key count is fixed (one name per secret) so that ioredis knows which
  // arguments are keys and applies a client's keyPrefix to them too.
  const n = secrets.length
  const getName = `spotifyAuthGet${n}`
  const setName = `spotifyAuthSet${n}`
  const updateName = `spotifyAuthUpdate${n}`
  const deleteName = `spotifyAuthDelete${n}`
  const scripts = { index: 'spotifyAuthIndex', unlock: 'spotifyAuthUnlock' }
  client.defineCommand(getName, { lua: GET, numberOfKeys: n })
  client.defineCommand(setName, { lua: SET, numberOfKeys: n })
  client.defineCommand(updateName, { lua: UPDATE, numberOfKeys: n })
  client.defineCommand(deleteName, { lua: DELETE, numberOfKeys: n })
  client.defineCommand(scripts.index, { lua: INDEX, numberOfKeys: 1 })
  client.defineCommand(scripts.unlock, { lua: UNLOCK, numberOfKeys: 1 })
  const commands = client as unknown as Record<string, Command>

  /**
   * Fails fast instead of queueing when Redis is not connected or has just
   * failed for want of a connection or a master (see `failFastFor`), and
   * bounds a command that hangs (a paused or overloaded server, a Cluster
   * failing over): the request gets a 503, and the store recovers by itself.
   */
  function run<T> (operation: () => Promise<T>): Promise<T> {
    if (client.status !== 'ready') return Promise.reject(new Error(`Redis is not connected (${client.status})`))
    const refusal = breaker.refusal()
    if (refusal !== undefined) return Promise.reject(new Error(`Redis failed a moment ago, not trying again yet (${refusal})`))
    return within('Redis', commandTimeout, operation).catch((error: unknown) => {
      if (isConnectionFailure(error)) breaker.failed((error as Error).message)
      throw error
    })
  }

  /** When the record of `token` lapses: Unix ms. */
  function expiryOf (token: SpotifyToken): number {
    return ttl === undefined ? token.refreshTokenExpiresAt * 1000 : Date.now() + ttl
  }

  /*
   * A user's index (keys.indexes): a sorted set of their sessions, scored by
   * the time of the last write (login or refresh). A member is the session
   * id, sealed: a dump names no session. Entries are advisory: sessionsOf
   * checks that each record still exists, so an index write that fails after
   * the record's write leaves nothing wrong behind.
   */

  /** Files the session under its user, scored by now; a record that has already lapsed is not filed. */
  async function index (index: string, member: string, token: SpotifyToken): Promise<void> {
    const expiry = expiryOf(token)
    if (expiry > Date.now()) await run(() => commands[scripts.index]!(index, member, expiry))
  }

  /** Takes deleted or replaced records' sessions out of their users' indexes: `[index, member, index, member…]`. */
  async function unindex (flat: string[]): Promise<void> {
    const removals: Array<Promise<unknown>> = []
    for (let i = 0; i < flat.length; i += 2) {
      const [index, member] = [flat[i] as string, flat[i + 1] as string]
      removals.push(run(() => client.call('ZREM', index, member)))
    }
    await Promise.all(removals)
  }

  /**
   * What a record is bound to: its key and its version. The version sits in
   * plaintext beside the sealed data (the Lua compare-and-set reads it), so
   * binding it means a record whose version was edited (to roll it back or
   * to slip a write past the compare-and-set) no longer opens.
   */
  function boundTo (key: string, version: number | string): string {
    return `${key}#${version}`
  }

  const store: TokenStore = {
    async get (sessionId) {
      const names = keys.records(sessionId)
      const found = await run(() => commands[getName]!(...names)) as [number, string, string] | null
      if (found === null) return undefined
      const [index, data, version] = found
      // A record that does not open (tampered with, moved to another
      // session's name, its version edited) counts as no session.
      return sealer.open(data, boundTo(names[index - 1] as string, version))
    },
    async set (sessionId, token) {
      const names = keys.records(sessionId)
      const userIndex = keys.indexes(token.userId)[0] as string
      const member = sealer.seal(sessionId, userIndex)
      const replaced = await run(() => commands[setName]!(...names, token.refreshes, sealer.seal(token, boundTo(names[0] as string, token.refreshes)),
        expiryOf(token), userIndex, member)) as string[]
      await unindex(replaced)
      await index(userIndex, member, token)
    },
    async update (sessionId, previous, next) {
      const names = keys.records(sessionId)
      const written = await run(() => commands[updateName]!(
        ...names, previous.refreshes, next.refreshes, sealer.seal(next, boundTo(names[0] as string, next.refreshes)), expiryOf(next)))
      if (written === 0) return false
      // A refresh counts as use: the session moves to the end of its user's list.
      const [userIndex, member] = written as [string, string]
      await index(userIndex, member, next)
      return true
    },
    async delete (sessionId, expected) {
      const names = keys.records(sessionId)
      const found = await run(() => expected === undefined ? commands[deleteName]!(...names) : commands[deleteName]!(...names, expected.refreshes))
      if (found !== null) await unindex(found as string[])
    },
    async sessionsOf (userId) {
      // Every index name the user may have (a secret rotation moves them),
      // oldest write first; entries whose record lapsed are dropped here.
      const listed: Array<{ index: string, member: string, sessionId: string | undefined, score: number }> = []
      const indexes = keys.indexes(userId)
      // One command per index name, all in flight together (each index is a
      // key of its own, maybe in a slot of its own).
      const ranges = await Promise.all(indexes.map((userIndex) => run(() => client.call('ZRANGE', userIndex, 0, -1, 'WITHSCORES'))))
      indexes.forEach((userIndex, i) => {
        // Members and scores, flat: ZRANGE answers in pairs under RESP3.
        const flat = (ranges[i] as unknown[]).flat() as string[]
        for (let j = 0; j < flat.length; j += 2) {
          const member = flat[j] as string
          listed.push({ index: userIndex, member, sessionId: sealer.open<string>(member, userIndex), score: Number(flat[j + 1]) })
        }
      })
      listed.sort((a, b) => a.score - b.score)
      // Whether each record exists: one EXISTS per session (its names share
      // a slot), all in flight together.
      const exists = (names: string[]): Promise<boolean> => run(() => client.call('EXISTS', ...names)).then((count) => (count as number) > 0)
      const alive = await Promise.all(listed.map((entry) => entry.sessionId === undefined ? false : exists(keys.records(entry.sessionId))))
      const dead = new Map<string, string[]>()
      listed.forEach((entry, i) => {
        if (alive[i] === true) return
        dead.set(entry.index, [...dead.get(entry.index) ?? [], entry.member])
      })
      await Promise.all([...dead].map(([userIndex, members]) => run(() => client.call('ZREM', userIndex, ...members))))
      return listed.filter((_, i) => alive[i] === true).map((entry) => entry.sessionId as string)
    },
    async lock (sessionId, ttlMs) {
      const key = keys.lock(sessionId)
      const token = randomBytes(16).toString('base64url')
      // ttlMs covers the holder's token call; its read and its write to
      // Redis may each take up to commandTimeout on top.
      const taken = await run(() => client.call('SET', key, token, 'PX', Math.ceil(ttlMs + 2 * commandTimeout), 'NX'))
      if (taken !== 'OK') return undefined
      return async () => {
        await run(() => commands[scripts.unlock]!(key, token))
      }
    }
  }
  return durability === undefined ? store : durableStore(store, client, (sessionId) => keys.records(sessionId)[0] as string, durability, run, commandTimeout)
}
