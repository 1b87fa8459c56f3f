import t from 'tap'
import { redisStore, type NodeRedisClient, type RedisStoreOptions, type TokenStore } from '../plugin/index.js'
import { createSpotifyEmulator } from '../plugin/emulator/index.js'
import { appName, rateLimitKey } from '../plugin/store/redis/keys.js'
import { sampleSessionId, sampleToken, testTokenStore } from '../plugin/testing/index.js'
import { build, CLIENT_ID, CLIENT_SECRET, type Built, REDIRECT_URI, SECRET } from './helpers/build.js'
import { eventually } from './helpers/eventually.js'
import { nodeRedisClient } from './helpers/node-redis.js'
import { inSync, newClient, privateRedis, redisOrSkip, uniquePrefix } from './helpers/redis.js'
import { expireStored, sessionIdOf, storm } from './helpers/sessions.js'

/*
 * node-redis (the `redis` package) as the Redis store's client: the same
 * store over another client adapter, with the same behaviour as on ioredis.
 * Cluster and Sentinel on real servers are in topology/.
 */

const OLD_SECRET = 'an-older-session-secret-of-32-chars!!'

function openStore (options: RedisStoreOptions, secrets: readonly string[] = [SECRET]): Promise<TokenStore> {
  return Promise.resolve(redisStore(options)({ secrets, clientId: CLIENT_ID }))
}

t.test('redisStore on node-redis', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return

  for (const RESP of [undefined, 2, 3] as const) {
    await t.test(`passes the contract, lock, index, window and news included (${RESP === undefined ? 'its default protocol' : `RESP${RESP}`})`, async (t) => {
      const client = await nodeRedisClient(t, undefined, RESP === undefined ? {} : { RESP })
      await testTokenStore(t, () => openStore({ client, prefix: uniquePrefix(t, redis) }), {
        lock: true, users: true, expiring: true, rateLimit: true, watch: true, lockExpiry: () => openStore({ client, prefix: uniquePrefix(t, redis), commandTimeout: 200 })
      })
    })
  }

  await t.test('passes the contract with two secrets (a rotation)', async (t) => {
    const client = await nodeRedisClient(t)
    const prefix = uniquePrefix(t, redis)
    await testTokenStore(t, () => openStore({ client, prefix }, [SECRET, OLD_SECRET]), { users: true, expiring: true, rotation: (secrets) => openStore({ client, prefix }, secrets) })
  })

  await t.test('a client\'s keyPrefix is applied to the store\'s keys and channel, as node-redis applies it to its own commands', async (t) => {
    const client = await nodeRedisClient(t, undefined, { keyPrefix: 'nr-app:' })
    const prefix = uniquePrefix(t, redis)
    await testTokenStore(t, () => openStore({ client, prefix }), {
      lock: true, users: true, expiring: true, rateLimit: true, watch: true, lockExpiry: () => openStore({ client, prefix: `${prefix}short:`, commandTimeout: 200 })
    })
    const store = await openStore({ client, prefix })
    await store.set(sampleSessionId(), sampleToken(1))
    t.ok((await redis.keys(`nr-app:${prefix}s:*`)).length > 0, 'written under the client\'s keyPrefix')
    t.teardown(async () => {
      const keys = await redis.keys(`nr-app:${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
    })
  })

  await t.test('a Cluster\'s and a Sentinel\'s command shapes: routed by the first key, WAIT on a leased connection', async (t) => {
    const client = await nodeRedisClient(t)
    const routedBy: Array<string | undefined> = []
    const leases: number[] = []
    // Both forward to one server: what is checked here is how the store
    // calls them (the real topologies are in topology/).
    const cluster = {
      get isReady () { return client.isReady },
      get isOpen () { return client.isOpen },
      masters: [],
      sendCommand: (firstKey: string | undefined, _readonly: boolean, args: string[]) => {
        routedBy.push(firstKey)
        return client.sendCommand(args)
      }
    }
    const sentinel = {
      get isReady () { return client.isReady },
      get isOpen () { return client.isOpen },
      sendCommand: (_readonly: boolean, args: string[]) => client.sendCommand(args),
      // A lease takes the Sentinel's arguments (isReadonly first), as node-redis's does.
      use: async <T>(fn: (lease: { sendCommand: (readonly: boolean, args: string[]) => Promise<unknown> }) => Promise<T>) => {
        leases.push(leases.length)
        return await fn({ sendCommand: (_readonly, args) => client.sendCommand(args) })
      }
    }
    for (const shaped of [cluster, sentinel] as unknown as NodeRedisClient[]) {
      // The short timeout only where a lock must expire by itself: on every
      // case, it failed them on a busy machine.
      await testTokenStore(t, () => openStore({ client: shaped, prefix: uniquePrefix(t, redis), pubsub: false }), {
        lock: true, users: true, lockExpiry: () => openStore({ client: shaped, prefix: uniquePrefix(t, redis), commandTimeout: 200, pubsub: false })
      })
    }
    t.ok(routedBy.some((key) => key?.includes('s:{') === true), 'records routed by their key')
    for (const shaped of [cluster, sentinel] as unknown as NodeRedisClient[]) {
      const store = await openStore({ client: shaped, prefix: uniquePrefix(t, redis), durability: { replicas: 1, timeout: 20, settle: 0 } })
      await t.rejects(store.set(sampleSessionId(), sampleToken(1)), /0 of 1 replicas acknowledged/, 'the shared Redis has no replica: WAIT says so')
    }
    t.equal(leases.length, 1, 'behind Sentinel, the script and its WAIT on one leased connection')
  })

  await t.test('three instances, each with its own node-redis client: one refresh per storm, rotation twice', async (t) => {
    const emulator = await createSpotifyEmulator({ autoApprove: true, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }] })
    t.teardown(() => emulator.close())
    const prefix = uniquePrefix(t, redis)
    const instances: Built[] = []
    for (let i = 0; i < 3; i++) {
      instances.push(await build(t, { sharedEmulator: emulator, plugin: { store: redisStore({ client: await nodeRedisClient(t), prefix }), retry: { limit: 0 } } }))
    }
    const [a, b, c] = instances as [Built, Built, Built]
    const store = a.app.spotify.store
    emulator.control.setRotateRefreshTokens(true)
    const { jar } = await b.login()
    for (const round of [1, 2]) {
      await expireStored(store, sessionIdOf(jar))
      emulator.control.resetCounters()
      const responses = await storm(instances, jar, 60)
      t.same(responses.map((r) => r.statusCode), Array(60).fill(200), `round ${round}: all succeed`)
      t.equal(emulator.control.counters.refresh_token, 1, `round ${round}: one refresh`)
    }

    // A 429 on one instance holds back the others.
    emulator.control.rateLimitApiCalls(1, 60)
    t.equal((await a.request(jar, { url: '/spotify/me' })).statusCode, 429)
    const until = (a.app.spotify.store.rateLimit as NonNullable<TokenStore['rateLimit']>).until()
    await eventually('the window to reach b and c', () => [b, c].every((other) => other.app.spotify.store.rateLimit?.until() === until))
    emulator.control.resetCounters()
    t.equal((await c.request(jar, { url: '/spotify/me' })).statusCode, 429, 'held back')
    t.equal(emulator.control.counters.api, 0, 'nothing reached Spotify')
  })

  await t.test('a subscriber that reconnects reads the window it may have missed; a client without duplicate() has no news', async (t) => {
    const server = await privateRedis(t)
    const client = await nodeRedisClient(t, server.url)
    const prefix = 'private:'
    const store = await openStore({ client, prefix })
    t.teardown(() => store.close?.())
    const window = store.rateLimit as NonNullable<TokenStore['rateLimit']>
    const raw = await newClient(t, server.url)
    const until = Date.now() + 60_000
    await raw.set(rateLimitKey(prefix, appName(CLIENT_ID)), String(until))
    await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await eventually('the reconnected subscriber to read the window', () => window.until() === until)
    t.pass('learnt on reconnection')

    const plain = { get isReady () { return client.isReady }, get isOpen () { return client.isOpen }, sendCommand: client.sendCommand.bind(client) }
    const quiet = await openStore({ client: plain as NodeRedisClient, prefix })
    t.equal(quiet.watch, undefined)
    t.equal(quiet.rateLimit, undefined)
  })

  await t.test('a store built by hand ends its subscriber with its client', async (t) => {
    const client = await nodeRedisClient(t)
    const store = await openStore({ client, prefix: uniquePrefix(t, redis) })
    await client.close()
    await eventually('the subscriber to end with its client', async () => await store.watch?.('x', AbortSignal.timeout(20)).then(() => false, () => true) as boolean)
    t.pass('ended with its client')
    await t.rejects(store.get(sampleSessionId()), /Redis is not connected \(closed\)/, 'and the store fails fast, saying why')
  })

  await t.test('durability: WAIT on the connection that wrote, fewer replicas fail the write', async (t) => {
    const master = await privateRedis(t)
    const replica = await privateRedis(t, ['--replicaof', '127.0.0.1', new URL(master.url).port])
    await inSync(await newClient(t, master.url))
    const client = await nodeRedisClient(t, master.url)
    const replicaClient = await newClient(t, replica.url)
    const store = await openStore({ client, durability: { replicas: 1 } })
    const id = sampleSessionId()
    await store.set(id, sampleToken(1))
    t.equal((await replicaClient.keys('spotify-auth:s:*')).length, 1, 'on the replica before set() resolves')
    t.equal(await store.update(id, sampleToken(1), sampleToken(1, 1)), true)
    await replica.stop()
    await eventually('the master to lose its replica', async () => /connected_slaves:0/.test(await client.sendCommand(['INFO', 'replication']) as string))
    await t.rejects(store.update(id, sampleToken(1, 1), sampleToken(1, 2)), /0 of 1 replicas acknowledged/)
    t.equal(store.settled?.(id), false, 'and the store does not vouch for its reads meanwhile')
  })

  await t.test('Redis down or hung: 503 FST_SPOTIFY_STORE_UNAVAILABLE, then recovery by itself', async (t) => {
    const server = await privateRedis(t)
    const client = await nodeRedisClient(t, server.url)
    const built = await build(t, { plugin: { store: redisStore({ client, commandTimeout: 300, failFastFor: 200 }) } })
    const { jar } = await built.login()
    t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 200)
    server.freeze()
    const hung = await built.request(jar, { url: '/spotify/me' })
    t.equal(hung.statusCode, 503)
    t.equal(hung.json().error.code, 'FST_SPOTIFY_STORE_UNAVAILABLE')
    server.thaw()
    await eventually('the store to answer again', async () => (await built.request(jar, { url: '/spotify/me' })).statusCode === 200)
    await server.stop()
    await eventually('the client to notice', () => !client.isReady)
    const down = await built.request(jar, { url: '/spotify/me' })
    t.equal(down.statusCode, 503)
    t.equal(down.json().error.code, 'FST_SPOTIFY_STORE_UNAVAILABLE')
    await t.rejects(openStore({ client, commandTimeout: 200 }), /the Redis store cannot reach Redis/, 'a store built meanwhile waits for the client (a PING), then gives up')
    await server.start()
    await eventually('the client to reconnect', () => client.isReady)
    const again = await built.login()
    t.equal((await built.request(again.jar, { url: '/spotify/me' })).statusCode, 200, 'service resumed by itself')
  })

  await t.test('a server without scripting fails register with the cause and the fix', async (t) => {
    const server = await privateRedis(t, [], 'rename-command EVAL ""\nrename-command EVALSHA ""\n')
    const client = await nodeRedisClient(t, server.url)
    await t.rejects(openStore({ client }), { code: 'FST_SPOTIFY_INVALID_OPTION', message: /needs Lua scripting.*unknown command 'evalsha'.*load its Lua module/i })
  })
})
