import { once } from 'node:events'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import t from 'tap'
import spotifyAuth, { redisStore, type RedisStoreOptions, type TokenStore } from '../plugin/index.js'
import { CLIENT_ID, SECRET } from './helpers/build.js'
import { newClient, privateRedis, REDIS_URL, redisOrSkip, uniquePrefix } from './helpers/redis.js'
import { invalid } from './helpers/stores.js'
import { sampleSessionId, sampleToken, testTokenStore } from '../plugin/testing/index.js'

const OLD_SECRET = 'an-older-session-secret-of-32-chars!!'

/** A Redis store built as the plugin builds it, with `secrets` as the plugin's `secret`. */
function openStore (options: RedisStoreOptions, secrets: string[] = [SECRET]): Promise<TokenStore> {
  return Promise.resolve(redisStore(options)({ secrets, clientId: CLIENT_ID }))
}

/**
 * A lock's lease is its ttl plus twice the command timeout: the contract's
 * lock-expiry tests run on a store with this one, so that they wait about
 * half a second for a lapse. Only they do: every other case keeps the default.
 */
const SHORT_COMMAND_TIMEOUT = 200

t.test('redisStore', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return

  // ioredis 6 speaks RESP3 by default; `protocol: 2` gives the old wire
  // protocol. Both are used in production: the contract runs on each.
  for (const protocol of [3, 2] as const) {
    await t.test(`on ioredis with RESP${protocol}`, async (t) => {
      const client = await newClient(t, undefined, { protocol })
      t.match(await client.call('CLIENT', 'INFO'), new RegExp(`\\bresp=${protocol}\\b`), `the client speaks RESP${protocol}`)

      await t.test('passes the TokenStore contract, lock included', (t) =>
        testTokenStore(t, () => openStore({ client, prefix: uniquePrefix(t, redis) }), {
          lock: true, users: true, expiring: true, rateLimit: true, watch: true, lockExpiry: () => openStore({ client, prefix: uniquePrefix(t, redis), commandTimeout: SHORT_COMMAND_TIMEOUT })
        }))

      await t.test('passes the contract\'s secret rotation', (t) => {
        const prefix = uniquePrefix(t, redis)
        return testTokenStore(t, () => openStore({ client, prefix }), { users: true, expiring: true, rotation: (secrets) => openStore({ client, prefix }, [...secrets]) })
      })
    })
  }

  await t.test('passes the contract on a client with a keyPrefix', async (t) => {
    const prefixed = await newClient(t, undefined, { keyPrefix: 'app1:' })
    await testTokenStore(t, () => openStore({ client: prefixed, prefix: uniquePrefix(t, redis) }), {
      lock: true, users: true, expiring: true, rateLimit: true, watch: true, lockExpiry: () => openStore({ client: prefixed, prefix: uniquePrefix(t, redis), commandTimeout: SHORT_COMMAND_TIMEOUT })
    })
  })

  await t.test('the raw value holds no token bytes and no session id; the key is an HMAC', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const store = await openStore({ client: redis, prefix })
    const id = sampleSessionId()
    const token = sampleToken(7)
    await store.set(id, token)
    const keys = await redis.keys(`${prefix}s:*`)
    t.equal(keys.length, 1)
    const key = keys[0] as string
    t.notOk(key.includes(id), 'the key does not contain the session id')
    const raw = JSON.stringify(await redis.hgetall(key))
    for (const secret of [token.accessToken, token.refreshToken, id, 'BQ-access', 'AQ-refresh', 'user-read-private']) {
      t.notOk(raw.includes(secret), `raw record does not contain ${secret}`)
    }
    const expiresAt = Number(await redis.call('PEXPIRETIME', key))
    t.equal(expiresAt, token.refreshTokenExpiresAt * 1000, 'kept until Spotify stops accepting the refresh token, not the access token')
  })

  await t.test('a record tampered with, moved or sealed by an unknown key reads as no session', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const store = await openStore({ client: redis, prefix })
    const a = sampleSessionId()
    const b = sampleSessionId()
    await store.set(a, sampleToken(1))
    const [k1] = await redis.keys(`${prefix}s:*`) as [string]
    await store.set(b, sampleToken(2))
    const k2 = (await redis.keys(`${prefix}s:*`)).find((key) => key !== k1) as string
    const d1 = await redis.hget(k1, 'd') as string
    const d2 = await redis.hget(k2, 'd') as string
    // Flip one character of the ciphertext.
    const flipped = d1.slice(0, -2) + (d1.at(-2) === 'A' ? 'B' : 'A') + d1.at(-1)
    await redis.hset(k1, 'd', flipped)
    // Swap in the other session's (valid) ciphertext: bound to its own key.
    await redis.hset(k2, 'd', d1)
    t.equal(await store.get(a), undefined)
    t.equal(await store.get(b), undefined)
    await redis.hset(k1, 'd', 'zzzzzzzz.' + d2.split('.').slice(1).join('.'))
    t.equal(await store.get(a), undefined, 'unknown key id')
    await redis.hset(k1, 'd', 'garbage')
    t.equal(await store.get(a), undefined, 'not even a record')
  })

  await t.test('a tampered index entry is dropped, not listed', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const store = await openStore({ client: redis, prefix })
    const id = sampleSessionId()
    await store.set(id, { ...sampleToken(1), userId: 'dora' })
    const [index] = await redis.keys(`${prefix}u:*`) as [string]
    await redis.zadd(index, 1, 'not-a-sealed-session-id')
    t.same(await store.sessionsOf?.('dora'), [id])
    t.equal(await redis.zcard(index), 1, 'the bad entry is gone')
  })

  await t.test('with ttl, a record lives that long after its last write', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const store = await openStore({ client: redis, prefix, ttl: 60_000 })
    await store.set(sampleSessionId(), sampleToken(1))
    const [key] = await redis.keys(`${prefix}s:*`) as [string]
    const ttl = await redis.pttl(key)
    t.ok(ttl > 55_000 && ttl <= 60_000, `${ttl} ms`)
  })

  await t.test('a record whose version was edited (a rollback past a logout or a refresh) reads as no session', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const store = await openStore({ client: redis, prefix })
    const id = sampleSessionId()
    await store.set(id, sampleToken(1, 0))
    t.equal(await store.update(id, sampleToken(1, 0), sampleToken(1, 1)), true)
    const [key] = await redis.keys(`${prefix}s:*`) as [string]
    await redis.hset(key, 'v', '0')
    t.equal(await store.get(id), undefined, 'the version is bound into the sealed record')
    await redis.hset(key, 'v', '1')
    t.same(await store.get(id), sampleToken(1, 1), 'put back, it opens again')
  })

  await t.test('secret rotation: old records stay readable and move to the new key on write', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const before = await openStore({ client: redis, prefix }, [OLD_SECRET])
    const id = sampleSessionId()
    await before.set(id, sampleToken(1, 0))
    const oldKeys = await redis.keys(`${prefix}s:*`)
    const after = await openStore({ client: redis, prefix }, [SECRET, OLD_SECRET])
    t.same(await after.get(id), sampleToken(1, 0), 'found under the old name')
    t.equal(await after.update(id, sampleToken(1, 0), sampleToken(1, 1)), true)
    const newKeys = await redis.keys(`${prefix}s:*`)
    t.equal(newKeys.length, 1)
    t.not(newKeys[0], oldKeys[0], 'moved to the new name')
    t.same(await after.get(id), sampleToken(1, 1))
    t.equal(await before.get(id), undefined, 'a store without the new secret no longer finds it')
    await after.set(id, sampleToken(1, 5))
    await after.delete(id)
    t.same(await redis.keys(`${prefix}*`), [], 'delete removes every name')
  })

  await t.test('options are validated', async (t) => {
    t.throws(() => redisStore({ client: {} as never }), invalid(/options\.client must be an ioredis or node-redis client/))
    t.throws(() => redisStore({ client: redis, prefix: 1 as never }), invalid(/options\.prefix must be a string/))
    t.throws(() => redisStore({ client: redis, ttl: 0 }), invalid(/options\.ttl must be a positive integer/))
    t.throws(() => redisStore({ client: redis, commandTimeout: 0 }), invalid(/options\.commandTimeout must be a positive number/))
    t.throws(() => redisStore({ client: redis, failFastFor: -1 }), invalid(/options\.failFastFor must be a number of ms, 0 or more/))
    t.throws(() => redisStore({ client: redis, failFastFor: Number.NaN }), invalid(/options\.failFastFor must be a number of ms, 0 or more/))
    t.type(redisStore({ client: redis }), 'function', 'a factory: the plugin builds it with its secret')
  })

  await t.test('the plugin hands its secret to the store and never closes the client', async (t) => {
    const client = await newClient(t)
    const prefix = uniquePrefix(t, redis)
    const app = Fastify()
    await app.register(spotifyAuth, { clientId: 'id', clientSecret: 's', redirectUri: 'http://127.0.0.1:5543/callback', secret: SECRET, store: redisStore({ client, prefix }) })
    await app.ready()
    await app.spotify.store.set(sampleSessionId(), sampleToken(1))
    const id = sampleSessionId()
    await app.spotify.store.set(id, sampleToken(2))
    t.same(await (await openStore({ client: redis, prefix })).get(id), sampleToken(2), 'sealed with the plugin\'s secret')
    await app.spotify.store.delete(id)
    await app.close()
    t.equal(client.status, 'ready', 'still connected after app.close()')
    t.equal((await redis.keys(`${prefix}s:*`)).length, 1)
  })

  await t.test('start-up with an unreachable Redis fails with a clear message', async (t) => {
    const server = await privateRedis(t)
    const client = await newClient(t, server.url, { maxRetriesPerRequest: 0, enableOfflineQueue: true })
    const closed = once(client, 'close')
    await server.stop()
    await closed
    const app = Fastify()
    const error = await app.register(spotifyAuth, {
      clientId: 'id',
      clientSecret: 's',
      redirectUri: 'http://127.0.0.1:5543/callback',
      secret: SECRET,
      store: redisStore({ client, commandTimeout: 300 })
    }).ready().then(() => undefined, (err: Error) => err)
    t.match(error?.message, /fastify-spotify-auth: the Redis store cannot reach Redis/)
    await app.close()
  })

  await t.test('start-up waits for a client that is still connecting', async (t) => {
    const lazy = new Redis(REDIS_URL)
    t.teardown(() => lazy.disconnect())
    t.not(lazy.status, 'ready')
    const app = Fastify()
    await app.register(spotifyAuth, {
      clientId: 'id',
      clientSecret: 's',
      redirectUri: 'http://127.0.0.1:5543/callback',
      secret: SECRET,
      store: redisStore({ client: lazy, prefix: uniquePrefix(t, redis) })
    })
    await app.ready()
    t.equal(lazy.status, 'ready')
    await app.close()
  })
})
