import type { Redis } from 'ioredis'
import t from 'tap'
import { redisStore, type TokenStore } from '../plugin/index.js'
import { sealedRecords } from '../plugin/store/kit/records.js'
import { sessionTag } from '../plugin/store/redis/keys.js'
import { sampleSessionId, sampleToken } from '../plugin/testing/index.js'
import { CLIENT_ID, SECRET } from './helpers/build.js'
import { redisOrSkip, uniquePrefix } from './helpers/redis.js'

/*
 * The Redis store's key layout on a single Redis: what makes it work on a
 * Cluster (one hash tag per session, shared by every name and the lock).
 * The Cluster itself is in topology/store-redis-cluster.test.ts.
 */

const OLD_SECRET = 'an-older-session-secret-of-32-chars!!'

function openStore (client: Redis, prefix: string, secrets: string[]): Promise<TokenStore> {
  return Promise.resolve(redisStore({ client, prefix })({ secrets, clientId: CLIENT_ID }))
}

/** The hash tag of a key, as Redis Cluster reads it (the first `{…}`). */
function tagOf (key: string): string | undefined {
  return /\{([^}]*)\}/.exec(key)?.[1]
}

t.test('Redis key layout', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return

  await t.test('a session\'s names under every secret and its lock share one hash tag, independent of the secret', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const id = sampleSessionId()
    const before = await openStore(redis, prefix, [OLD_SECRET])
    await before.set(id, sampleToken(1))
    const after = await openStore(redis, prefix, [SECRET, OLD_SECRET])
    const release = await after.lock?.(id, 60_000)
    const keys = (await redis.keys(`${prefix}*`)).filter((key) => !key.startsWith(`${prefix}u:`) && key !== `${prefix}reauth`)
    t.equal(keys.length, 2, 'the record under the old secret and the lock')
    t.same(keys.map(tagOf), [sessionTag(id), sessionTag(id)], 'one tag for both')
    t.notOk(keys.some((key) => key.includes(id)), 'no key holds the session id')
    t.equal(await after.update(id, sampleToken(1), sampleToken(1, 1)), true, 'a rotation rewrites in one script, one slot')
    t.equal(tagOf((await redis.keys(`${prefix}s:*`))[0] as string), sessionTag(id), 'moved to the new name, same tag')
    await release?.()
  })

  await t.test('tags differ between sessions (they spread over the slots) and leak nothing usable', async (t) => {
    const tags = new Set(Array.from({ length: 200 }, () => sessionTag(sampleSessionId())))
    t.ok(tags.size > 190, `${tags.size} distinct tags for 200 sessions`)
    const id = sampleSessionId()
    t.equal(sessionTag(id), sessionTag(id), 'stable')
    t.match(sessionTag(id), /^[A-Za-z0-9_-]{4}$/, '24 bits: no way back to a 256-bit id')
  })

  await t.test('sessionsOf drops, in one go, every entry whose record is gone under all its names', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const store = await openStore(redis, prefix, [SECRET])
    const ids = Array.from({ length: 5 }, () => sampleSessionId())
    for (const id of ids) await store.set(id, { ...sampleToken(6), userId: 'many' })
    const gone = [ids[1], ids[3]] as string[]
    // Removed behind the store's back (as an eviction would): the index still names them.
    for (const id of gone) await redis.del(`${prefix}s:{${sessionTag(id)}}${sealedRecords([SECRET]).names(id)[0] as string}`)
    t.same(await store.sessionsOf?.('many'), ids.filter((id) => !gone.includes(id)))
    t.equal(await redis.zcard((await redis.keys(`${prefix}u:*`))[0] as string), 3)
  })
})
