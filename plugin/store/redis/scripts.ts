import { createHash } from 'node:crypto'

/**
 * A Lua script the Redis store runs: registered once per client under
 * `name` (ioredis `defineCommand`), or sent by SHA with the Lua on a miss
 * (node-redis). Every script takes
 * as many keys as it is given (the key count goes with each call), so one
 * registration serves any number of secrets.
 */
export interface RedisScript {
  /** The operation, and a digest of its Lua: another version of the script never takes its place on a shared client. */
  readonly name: string
  readonly lua: string
  /** The SHA-1 of its Lua, in hex: what `EVALSHA` takes. */
  readonly sha: string
}

function script (operation: string, lua: string): RedisScript {
  const sha = createHash('sha1').update(lua).digest('hex')
  return { name: `spotifyAuth${operation}_${sha.slice(0, 8)}`, lua, sha }
}

// The record scripts take the record's candidate names, newest secret
// first, all in one hash slot (./keys.ts): a record sealed before a
// `secret` rotation is still found under its old name and moves to the
// new one on its next write. No script touches a user's index: that is
// another slot on Cluster.

/** → [index of the name found (1-based), sealed data, version], or nil. */
export const GET = script('Get', `
for i, key in ipairs(KEYS) do
  local record = redis.call('HMGET', key, 'd', 'v')
  if record[1] then return { i, record[1], record[2] } end
end
return nil`)

/**
 * Creates or overwrites the record under the newest name.
 * ARGV: version, data, expiry (Unix ms), user index key, index member.
 * → the user index key and member of every record it replaced, flat.
 */
export const SET = script('Set', `
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
return replaced`)

/**
 * Compare-and-set on the version (the fencing token): writes only over
 * the expected version of an existing record, so that neither a slower
 * sibling nor a refresh that outlived a logout can overwrite.
 * ARGV: expected version, new version, data, expiry (Unix ms).
 * → the record's [user index key, index member]; 0 when there is no record at that version.
 */
export const UPDATE = script('Update', `
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
return 0`)

/**
 * Deletes every name of a record; with ARGV[1], only while it is at that
 * version. → the record's [user index key, index member], or nil.
 */
export const DELETE = script('Delete', `
local found = nil
for i, key in ipairs(KEYS) do
  local record = redis.call('HMGET', key, 'v', 'u', 'm')
  if record[1] then
    if ARGV[1] and record[1] ~= ARGV[1] then return nil end
    found = { record[2], record[3] }
  end
end
redis.call('DEL', unpack(KEYS))
return found`)

/**
 * Files a session in its user's index, scored by Redis's own clock in
 * microseconds (one clock for every instance, and always after the last
 * entry), and keeps the index at least as long as that session's record
 * (never shorter: other sessions may last longer).
 * KEYS: the index. ARGV: member, expiry (Unix ms).
 */
export const INDEX = script('Index', `
local now = redis.call('TIME')
local score = now[1] * 1000000 + now[2]
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 1 end
redis.call('ZADD', KEYS[1], score, ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or now[1] * 1000 + math.floor(now[2] / 1000) + ttl < tonumber(ARGV[2]) then
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return 1`)

/**
 * Files a session by when its refresh token ends, and drops the entries
 * already past (their records have lapsed): the index stays as large as
 * the live sessions, with no timer. KEYS: the index. ARGV: score (Unix s),
 * member, now (Unix s).
 */
export const REAUTH = script('Reauth', `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
return 1`)

/** Releases a lock only if it still holds our token (it may have expired and been taken). KEYS: the lock. ARGV: token. */
export const UNLOCK = script('Unlock', `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

/**
 * Opens the rate-limit window only forward (a later `Retry-After` never
 * shortens an earlier, longer one), lets Redis drop it when it ends, and
 * announces it (the message only says "read it again": a listener learns
 * the window from the key, never from a message, which anyone allowed to
 * PUBLISH could forge). KEYS: the window's key. ARGV: until (Unix ms),
 * channel, the app's message (`r <app>`), and the reason as a suffix
 * (` quota`) if any: the value is `<until>[ <reason>]`.
 * → 1 when it moved.
 */
export const HOLD_RATE_LIMIT = script('HoldRateLimit', `
local current = tonumber(string.match(redis.call('GET', KEYS[1]) or '0', '^%d+') or '0')
if tonumber(ARGV[1]) <= current then return 0 end
local value = ARGV[1] .. (ARGV[4] or '')
redis.call('SET', KEYS[1], value, 'PXAT', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`)

/**
 * Sent just before a `WAIT`, on the same connection, for durability: its
 * key routes the pair to the node that owns the record (a node that does
 * not answers MOVED instead of acknowledging nothing). With ARGV[1] it
 * also writes the record again (a stamp), so that `WAIT` covers it when
 * this connection has not written it yet: after a reconnect, or when an
 * earlier try wrote it and only its answer was lost. A record that is gone
 * is left gone. KEYS: the record. ARGV: [stamp].
 */
export const TOUCH = script('Touch', `
if ARGV[1] and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'w', ARGV[1]) end
return 1`)

/**
 * Sent once at start-up, the way every script goes (by SHA, then the Lua
 * on a miss): a server without Lua scripting (Valkey 9.1 or later without
 * its Lua module, `EVAL` renamed away, an ACL without `@scripting`) is
 * found at register time rather than at the first login.
 */
export const PROBE = script('Probe', 'return 1')
