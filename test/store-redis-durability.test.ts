import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, type ClusterOptions } from 'ioredis'
import t from 'tap'
import { redisStore, type SpotifyToken } from '../plugin/index.js'
import { TOUCH } from '../plugin/store/redis/scripts.js'
import { sampleSessionId, sampleToken } from '../plugin/testing/index.js'
import { build, CLIENT_ID, SECRET } from './helpers/build.js'
import { newClient, nextReady, privateRedis, redisOrSkip, replicatedRedis, type PrivateRedis } from './helpers/redis.js'
import { expireStored, sessionIdOf } from './helpers/sessions.js'
import { invalid } from './helpers/stores.js'

function portOf (server: PrivateRedis): string {
  return new URL(server.url).port
}

t.test('options.durability is checked', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  for (const [durability, message] of [
    [null, /options\.durability must be an object/],
    [{ replicas: 0 }, /durability\.replicas must be a positive integer/],
    [{ replicas: 1, timeout: 0 }, /durability\.timeout must be a positive integer/],
    [{ replicas: 1, settle: -1 }, /durability\.settle must be a non-negative integer/]
  ] as const) {
    t.throws(() => redisStore({ client: redis, durability: durability as never }), invalid(message))
  }
})

t.test('with a replica: a login and a refresh are on the replica before the response', async (t) => {
  const { masterClient, replicaClient } = await replicatedRedis(t)
  const store = redisStore({ client: masterClient, durability: { replicas: 1, timeout: 2000 } })
  const onReplica = await redisStore({ client: replicaClient })({ secrets: [SECRET], clientId: CLIENT_ID })
  const built = await build(t, { plugin: { store } })
  built.emulator.control.setRotateRefreshTokens(true)
  const { jar, callback } = await built.login()
  t.equal(callback.statusCode, 302)
  const sessionId = sessionIdOf(jar)
  t.ok(await onReplica.get(sessionId), 'the login is on the replica')
  await expireStored(built.app.spotify.store, sessionId)
  const before = await built.app.spotify.store.get(sessionId) as SpotifyToken
  t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 200)
  const copy = await onReplica.get(sessionId) as SpotifyToken
  t.equal(copy.refreshes, before.refreshes + 1, 'the refresh is on the replica')
  t.not(copy.refreshToken, before.refreshToken, 'with the rotated refresh token')
  t.equal(built.app.spotify.store.settled?.(sessionId), true, 'settled: no reconnect since start')
  const stale = { ...copy, refreshes: copy.refreshes - 1 }
  t.equal(await built.app.spotify.store.update(sessionId, stale, { ...copy, refreshes: copy.refreshes + 5 }), false,
    'an update over a version that is gone is refused, as without durability')
})

t.test('without the replicas asked for, a login fails with 503', async (t) => {
  const master = await privateRedis(t)
  const client = await newClient(t, master.url)
  const built = await build(t, { plugin: { store: redisStore({ client, durability: { replicas: 1, timeout: 50 } }) } })
  const { callback, jar } = await built.login()
  t.equal(callback.statusCode, 503)
  t.notOk(jar.cookies.has('spotify_session'))
})

t.test('a reconnect unsettles the store for `settle` ms', async (t) => {
  const master = await privateRedis(t)
  const client = await newClient(t, master.url, { maxRetriesPerRequest: 1, retryStrategy: () => 20 })
  const held = await redisStore({ client, durability: { replicas: 1, settle: 60_000 } })({ secrets: [SECRET], clientId: CLIENT_ID })
  const brief = await redisStore({ client, durability: { replicas: 1, settle: 0 } })({ secrets: [SECRET], clientId: CLIENT_ID })
  t.equal(held.settled?.('any'), true)
  await master.stop()
  const ready = nextReady(client)
  await master.start()
  await ready
  t.equal(held.settled?.('any'), false, 'held after a reconnect')
  t.equal(brief.settled?.('any'), true, 'settle: 0 never holds')
})

t.test('on a Redis Cluster, WAIT goes to the node that owns the session', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spotify-auth-cluster-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const node = await privateRedis(t, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-announce-ip', '127.0.0.1'])
  const admin = await newClient(t, node.url)
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
  while (!/cluster_state:ok/.test(await admin.call('CLUSTER', 'INFO') as string)) await new Promise((resolve) => setTimeout(resolve, 50))
  const connect = async (options: ClusterOptions) => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: Number(portOf(node)) }], { ...options, redisOptions: { maxRetriesPerRequest: 1 } })
    cluster.on('error', () => {})
    t.teardown(() => cluster.disconnect())
    await once(cluster, 'ready')
    return cluster
  }
  const prefixed = await connect({ keyPrefix: 'app:' })
  const secrets = { secrets: [SECRET], clientId: CLIENT_ID }
  const store = await redisStore({ client: prefixed, durability: { replicas: 1, timeout: 50 } })(secrets)
  const token = { userId: 'u', accessToken: 'a', refreshToken: 'r', expiresAt: 1, scope: [], obtainedAt: 1, authorizedAt: 1, refreshTokenExpiresAt: Math.floor(Date.now() / 1000) + 3600, refreshes: 0 }
  await t.rejects(store.set('s1', token), /0 of 1 replicas acknowledged/, 'the owner has no replica: WAIT says so')
  t.ok(await store.get('s1'), 'the write itself is there')
})

t.test('a WAIT answered by a server that does not take the record\'s writes fails the write', async (t) => {
  const { masterClient, replicaClient } = await replicatedRedis(t)
  // What a wrong route would do: the confirmation lands on another server (here the replica).
  replicaClient.defineCommand(TOUCH.name, { lua: TOUCH.lua })
  const misrouted = new Proxy(masterClient, { get: (target, name) => name === 'pipeline' ? () => replicaClient.pipeline() : Reflect.get(target, name, target) })
  const store = await redisStore({ client: misrouted, durability: { replicas: 1, timeout: 200 } })({ secrets: [SECRET], clientId: CLIENT_ID })
  const id = sampleSessionId()
  await t.rejects(store.set(id, sampleToken(1)), /WAIT cannot be used with replica instances/, 'an error, not an acknowledgement')
  t.ok(await store.get(id), 'the write itself is on the master')
})
