import { randomBytes } from 'node:crypto'
import { within } from './within.js'
import { createSealer } from './sealing.js'
import { checkDurability, durableStore, type RedisDurabilityOptions } from './redis-durability.js'
import type { SpotifyToken, StoreContext, StoreFactory, TokenStore } from './types.js'

/**
 * The part of an ioredis client the store uses. `new Redis(…)` from
 * `ioredis` and the client of `@fastify/redis` both fit.
 */
export interface RedisClient {
  readonly status: string
  defineCommand (name: string, definition: { lua: string, numberOfKeys: number }): void
  call (command: string, ...args: Array<string | number>): Promise<unknown>
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
}

// Every script takes the record's candidate names, newest key first: a
// record sealed before a `secret` rotation is still found under its old name
// and moves to the new one on its next write.

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
 * gives one refresh per session across the cluster.
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
  return async (context: StoreContext) => {
    if (client.status !== 'ready') {
      // Start-up waits for a connecting client (a queued PING), but not forever.
      try {
        await within('Redis', commandTimeout, () => client.call('PING'))
      } catch (cause) {
        throw new Error(`fastify-spotify-auth: the Redis store cannot reach Redis (${(cause as Error).message})`, { cause })
      }
    }
    return createRedisStore(client, prefix, ttl, commandTimeout, context.secrets, durability)
  }
}

function createRedisStore (client: RedisClient, prefix: string, ttl: number | undefined, commandTimeout: number, secrets: readonly string[],
  durability: Required<RedisDurabilityOptions> | undefined): TokenStore {
  const sealer = createSealer(secrets)
  // Lua registered once, sent by SHA afterwards (ioredis falls back to EVAL).
  // The key count is fixed (one name per secret) so that ioredis knows which
  // arguments are keys and applies a client's keyPrefix to them too.
  const n = secrets.length
  const names = { get: `spotifyAuthGet${n}`, set: `spotifyAuthSet${n}`, update: `spotifyAuthUpdate${n}`, delete: `spotifyAuthDelete${n}`, index: 'spotifyAuthIndex', unlock: 'spotifyAuthUnlock' }
  client.defineCommand(names.get, { lua: GET, numberOfKeys: n })
  client.defineCommand(names.set, { lua: SET, numberOfKeys: n })
  client.defineCommand(names.update, { lua: UPDATE, numberOfKeys: n })
  client.defineCommand(names.delete, { lua: DELETE, numberOfKeys: n })
  client.defineCommand(names.index, { lua: INDEX, numberOfKeys: 1 })
  client.defineCommand(names.unlock, { lua: UNLOCK, numberOfKeys: 1 })
  const commands = client as unknown as Record<string, Command>

  /**
   * Fails fast instead of queueing when Redis is not connected, and bounds a
   * command that hangs (a paused or overloaded server): the request gets a
   * 503 at once, and the next one works as soon as Redis is back.
   */
  function run<T> (operation: () => Promise<T>): Promise<T> {
    if (client.status !== 'ready') return Promise.reject(new Error(`Redis is not connected (${client.status})`))
    return within('Redis', commandTimeout, operation)
  }

  /** When the record of `token` lapses: Unix ms. */
  function expiryOf (token: SpotifyToken): number {
    return ttl === undefined ? token.refreshTokenExpiresAt * 1000 : Date.now() + ttl
  }

  function keysOf (sessionId: string): string[] {
    return sealer.names(sessionId).map((name) => `${prefix}s:${name}`)
  }

  /**
   * A user's index: a sorted set of their sessions, scored by the time of
   * the last write (login or refresh), newest key first like records. A
   * member is the session id, sealed: a dump names no session.
   */
  function indexesOf (userId: string): string[] {
    return sealer.names(`user:${userId}`).map((name) => `${prefix}u:${name}`)
  }

  /** Files the session under its user, scored by now; a record that has already lapsed is not filed. */
  async function index (index: string, member: string, token: SpotifyToken): Promise<void> {
    const expiry = expiryOf(token)
    if (expiry > Date.now()) await run(() => commands[names.index]!(index, member, expiry))
  }

  /** Takes deleted or replaced records' sessions out of their users' indexes: `[index, member, index, member…]`. */
  async function unindex (found: unknown): Promise<void> {
    const flat = (found ?? []) as string[]
    for (let i = 0; i < flat.length; i += 2) {
      const [index, member] = [flat[i] as string, flat[i + 1] as string]
      await run(() => client.call('ZREM', index, member))
    }
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
      const keys = keysOf(sessionId)
      const found = await run(() => commands[names.get]!(...keys)) as [number, string, string] | null
      if (found === null) return undefined
      const [index, data, version] = found
      // A record that does not open (tampered with, moved to another
      // session's name, its version edited) counts as no session.
      return sealer.open(data, boundTo(keys[index - 1] as string, version))
    },
    async set (sessionId, token) {
      const keys = keysOf(sessionId)
      const userIndex = indexesOf(token.userId)[0] as string
      const member = sealer.seal(sessionId, userIndex)
      await unindex(await run(() => commands[names.set]!(...keys, token.refreshes, sealer.seal(token, boundTo(keys[0] as string, token.refreshes)),
        expiryOf(token), userIndex, member)))
      await index(userIndex, member, token)
    },
    async update (sessionId, previous, next) {
      const keys = keysOf(sessionId)
      const written = await run(() => commands[names.update]!(
        ...keys, previous.refreshes, next.refreshes, sealer.seal(next, boundTo(keys[0] as string, next.refreshes)), expiryOf(next)))
      if (written === 0) return false
      // A refresh counts as use: the session moves to the end of its user's list.
      const [userIndex, member] = written as [string, string]
      await index(userIndex, member, next)
      return true
    },
    async delete (sessionId, expected) {
      const keys = keysOf(sessionId)
      await unindex(await run(() => expected === undefined
        ? commands[names.delete]!(...keys)
        : commands[names.delete]!(...keys, expected.refreshes)))
    },
    async sessionsOf (userId) {
      // Every index name the user may have (a secret rotation moves them),
      // oldest write first; entries whose record lapsed are dropped here.
      const listed: Array<{ index: string, member: string, sessionId: string | undefined, score: number }> = []
      for (const userIndex of indexesOf(userId)) {
        // Members and scores, flat: ZRANGE answers in pairs under RESP3.
        const flat = (await run(() => client.call('ZRANGE', userIndex, 0, -1, 'WITHSCORES')) as unknown[]).flat() as string[]
        for (let i = 0; i < flat.length; i += 2) {
          const member = flat[i] as string
          listed.push({ index: userIndex, member, sessionId: sealer.open<string>(member, userIndex), score: Number(flat[i + 1]) })
        }
      }
      listed.sort((a, b) => a.score - b.score)
      const live: string[] = []
      for (const entry of listed) {
        const alive = entry.sessionId !== undefined && await run(() => client.call('EXISTS', ...keysOf(entry.sessionId as string))) as number > 0
        if (alive) live.push(entry.sessionId as string)
        else await run(() => client.call('ZREM', entry.index, entry.member))
      }
      return live
    },
    async lock (sessionId, ttlMs) {
      const key = `${prefix}lock:${sealer.names(sessionId)[0] as string}`
      const token = randomBytes(16).toString('base64url')
      // ttlMs covers the holder's token call; its read and its write to
      // Redis may each take up to commandTimeout on top.
      const taken = await run(() => client.call('SET', key, token, 'PX', Math.ceil(ttlMs + 2 * commandTimeout), 'NX'))
      if (taken !== 'OK') return undefined
      return async () => {
        await run(() => commands[names.unlock]!(key, token))
      }
    }
  }
  return durability === undefined ? store : durableStore(store, client, (sessionId) => keysOf(sessionId)[0] as string, durability, run, commandTimeout)
}
