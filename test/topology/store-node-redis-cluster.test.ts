import t, { type Test } from 'tap'
import { createCluster } from 'redis'
import { redisStore, type NodeRedisClient, type TokenStore } from '../../plugin/index.js'
import { createSpotifyEmulator } from '../../plugin/emulator/index.js'
import { sampleSessionId, sampleToken, testTokenStore } from '../../plugin/testing/index.js'
import { build, type Built, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SECRET } from '../helpers/build.js'
import { startRedisCluster, topologySkipped } from '../helpers/redis-topology.js'
import { expireStored, sessionIdOf, storm } from '../helpers/sessions.js'

/*
 * The Redis store on node-redis's Cluster client, on a real Redis Cluster
 * (3 masters, 3 replicas): the contract with one and two secrets,
 * durability, and three app instances with one refresh per storm. Heavy:
 * `npm run test:topology`.
 */

const OLD_SECRET = 'an-older-session-secret-of-32-chars!!'

let prefixes = 0
function prefix (): string {
  return `node-redis-${++prefixes}:`
}

const opened: TokenStore[] = []
t.teardown(async () => { for (const store of opened) await store.close?.() })

async function openStore (client: NodeRedisClient, keyPrefix: string, secrets: string[], durability?: { replicas: number }): Promise<TokenStore> {
  const store = await redisStore({ client, prefix: keyPrefix, commandTimeout: 1000, ...(durability === undefined ? {} : { durability }) })({ secrets, clientId: CLIENT_ID })
  opened.push(store)
  return store
}

/** Three instances, each with its own client from `connect`, on one prefix: 60 requests on an expired session make one refresh. */
async function oneRefreshPerStorm (t: Test, connect: () => Promise<NodeRedisClient>): Promise<void> {
  const emulator = await createSpotifyEmulator({ autoApprove: true, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }] })
  t.teardown(() => emulator.close())
  const shared = prefix()
  const instances: Built[] = []
  for (let i = 0; i < 3; i++) instances.push(await build(t, { sharedEmulator: emulator, plugin: { store: redisStore({ client: await connect(), prefix: shared, commandTimeout: 1000 }) } }))
  emulator.control.setRotateRefreshTokens(true)
  const { jar } = await (instances[0] as Built).login()
  await expireStored((instances[0] as Built).app.spotify.store, sessionIdOf(jar))
  emulator.control.resetCounters()
  const responses = await storm(instances, jar, 60)
  t.same(responses.map((r) => r.statusCode), Array(60).fill(200))
  t.equal(emulator.control.counters.refresh_token, 1, 'one refresh')
}

t.test('node-redis createCluster() on a Redis Cluster', async (t) => {
  if (await topologySkipped(t)) return
  const topology = await startRedisCluster(t)
  const connect = async (): Promise<NodeRedisClient> => {
    const client = createCluster({ rootNodes: topology.nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) })
    client.on('error', () => {})
    t.teardown(() => { if (client.isOpen) client.destroy() })
    await client.connect()
    return client as unknown as NodeRedisClient
  }
  const client = await connect()
  await t.test('passes the contract with one secret', (t) =>
    testTokenStore(t, () => openStore(client, prefix(), [SECRET]), { lock: true, users: true, lockTtl: 100, rateLimit: true, watch: true }))
  await t.test('passes the contract with two secrets (no CROSSSLOT)', (t) =>
    testTokenStore(t, () => openStore(client, prefix(), [SECRET, OLD_SECRET]), { lock: true, users: true, lockTtl: 100 }))
  await t.test('durability: WAIT goes to the master that owns the record', async (t) => {
    await topology.waitForReplication()
    const store = await openStore(client, prefix(), [SECRET], { replicas: 1 })
    for (let i = 0; i < 10; i++) await store.set(sampleSessionId(), sampleToken(i))
    t.pass('ten records on masters all over the cluster, each acknowledged by its replica')
  })
  await t.test('three instances: one refresh per storm', (t) => oneRefreshPerStorm(t, connect))
})
