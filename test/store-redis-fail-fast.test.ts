import t from 'tap'
import { redisStore, type TokenStore } from '../plugin/index.js'
import { isConnectionFailure } from '../plugin/store/redis/failures.js'
import { sampleSessionId, sampleToken } from '../plugin/testing/index.js'
import { build, CLIENT_ID, SECRET } from './helpers/build.js'
import { newClient, privateRedis, redisOrSkip, uniquePrefix } from './helpers/redis.js'

/*
 * Failures of the connection or of the topology (a master down, a Cluster
 * failing over, a demoted master) open a short fail-fast window: the store
 * answers at once instead of letting each request wait out its timeout, and
 * recovers by itself after. Cluster and Sentinel themselves are in
 * store-redis-topologies.test.ts; these run on single servers.
 */

/** The store's rejection, or undefined if it resolved. */
async function failure (operation: Promise<unknown>): Promise<Error | undefined> {
  return await operation.then(() => undefined, (err: Error) => err)
}

/** Retries `operation` until it resolves, within a bound: the window closes by itself. */
async function recovered<T> (operation: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      return await operation()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

t.test('which failures are about the connection or the topology', async (t) => {
  const failures = [
    new Error('CLUSTERDOWN The cluster is down'),
    new Error('TRYAGAIN Multiple keys request during rehashing of slot'),
    new Error('MOVED 3999 127.0.0.1:6381'),
    new Error('ASK 3999 127.0.0.1:6381'),
    new Error('READONLY You can\'t write against a read only replica.'),
    new Error('LOADING Redis is loading the dataset in memory'),
    new Error('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to \'no\'.'),
    new Error('Too many Cluster redirections. Last error: Error: CLUSTERDOWN The cluster is down'),
    new Error('Connection is closed.'),
    new Error('Redis did not answer within 300 ms'),
    // node-redis's own
    new Error('The client is closed'),
    new Error('The client is offline'),
    new Error('Socket closed unexpectedly'),
    new Error('Connection timeout'),
    new Error('All the root nodes are unavailable'),
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
  ]
  for (const error of failures) t.ok(isConnectionFailure(error), error.message)
  const others = [
    new Error('WRONGTYPE Operation against a key holding the wrong kind of value'),
    new Error('ERR Error running script: attempt to compare nil'),
    new Error('NOSCRIPT No matching script'),
    new Error('MOVEDON is not a reply'),
    'CLUSTERDOWN as a string is no error object',
    undefined,
    null
  ]
  for (const error of others) t.notOk(isConnectionFailure(error), String((error as Error | undefined)?.message ?? error))
})

t.test('fail fast after a connection failure, then recover', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return

  await t.test('a hung server: one request waits out the timeout, the next ones fail at once', async (t) => {
    const server = await privateRedis(t)
    const client = await newClient(t, server.url)
    const store = await redisStore({ client, commandTimeout: 200, failFastFor: 60_000 })({ secrets: [SECRET], clientId: CLIENT_ID })
    const id = sampleSessionId()
    await store.set(id, sampleToken(1))
    server.freeze()
    t.match((await failure(store.get(id)))?.message, /did not answer within 200 ms/)
    const error = await failure(store.get(id))
    t.match(error?.message, /Redis failed a moment ago, not trying again yet \(Redis did not answer within 200 ms\)/, 'refused at once, saying why')
    server.thaw()
  })

  await t.test('the window ends by itself and the store works again', async (t) => {
    const server = await privateRedis(t)
    const client = await newClient(t, server.url)
    const store = await redisStore({ client, commandTimeout: 200, failFastFor: 100 })({ secrets: [SECRET], clientId: CLIENT_ID })
    const id = sampleSessionId()
    await store.set(id, sampleToken(2))
    server.freeze()
    t.ok(await failure(store.get(id)))
    server.thaw()
    t.same(await recovered(() => store.get(id)), sampleToken(2))
  })

  await t.test('failFastFor: 0 keeps sending (each call waits out its own timeout)', async (t) => {
    const server = await privateRedis(t)
    const client = await newClient(t, server.url)
    const store = await redisStore({ client, commandTimeout: 200, failFastFor: 0 })({ secrets: [SECRET], clientId: CLIENT_ID })
    server.freeze()
    t.match((await failure(store.get(sampleSessionId())))?.message, /did not answer within/)
    t.match((await failure(store.get(sampleSessionId())))?.message, /did not answer within/, 'not refused: sent again')
    server.thaw()
  })

  await t.test('a failure of the command itself does not open the window', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const store = await redisStore({ client: redis, prefix, failFastFor: 60_000 })({ secrets: [SECRET], clientId: CLIENT_ID })
    const id = sampleSessionId()
    await store.set(id, sampleToken(3))
    const [key] = await redis.keys(`${prefix}s:*`) as [string]
    await redis.del(key)
    await redis.set(key, 'not a hash')
    t.match((await failure(store.get(id)))?.message, /WRONGTYPE/)
    t.equal(await store.get(sampleSessionId()), undefined, 'the next call goes through')
  })

  await t.test('a demoted master (READONLY): 503 with the store code, then recovery once it is a master again', async (t) => {
    const [master, replica] = [await privateRedis(t), await privateRedis(t)]
    const replicaClient = await newClient(t, replica.url)
    await replicaClient.call('REPLICAOF', '127.0.0.1', new URL(master.url).port)
    const app = await build(t, { plugin: { store: redisStore({ client: await newClient(t, replica.url), failFastFor: 1000 }) } })
    const refused = await app.login()
    t.equal(refused.callback.statusCode, 503, 'the login\'s write is refused by a replica')
    t.equal(refused.callback.json().error.code, 'FST_SPOTIFY_STORE_UNAVAILABLE')
    t.match(await failure(app.app.spotify.store.get(sampleSessionId())), { message: /Redis failed a moment ago.*READONLY/ }, 'and the window is open')
    await replicaClient.call('REPLICAOF', 'NO', 'ONE')
    const store: TokenStore = app.app.spotify.store
    await recovered(() => store.set(sampleSessionId(), sampleToken(4)))
    const { jar } = await app.login()
    t.equal((await app.request(jar, { url: '/spotify/me' })).statusCode, 200)
  })
})
