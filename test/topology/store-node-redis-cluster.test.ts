import t from 'tap'
import { createCluster } from 'redis'
import type { NodeRedisClient } from '../../plugin/index.js'
import { sampleSessionId, sampleToken, testTokenStore } from '../../plugin/testing/index.js'
import { SECRET } from '../helpers/build.js'
import { OLD_SECRET, oneRefreshPerStorm, openNodeRedisStore } from '../helpers/node-redis-topology.js'
import { startRedisCluster, topologySkipped } from '../helpers/redis-topology.js'

/*
 * The Redis store on node-redis's Cluster client, on a real Redis Cluster
 * (3 masters, 3 replicas): the contract with one and two secrets,
 * durability, and three app instances with one refresh per storm. Heavy:
 * `npm run test:topology`.
 */

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
    testTokenStore(t, () => openNodeRedisStore(t, client, [SECRET]), { lock: true, users: true, lockTtl: 100, rateLimit: true, watch: true }))
  await t.test('passes the contract with two secrets (no CROSSSLOT)', (t) =>
    testTokenStore(t, () => openNodeRedisStore(t, client, [SECRET, OLD_SECRET]), { lock: true, users: true, lockTtl: 100 }))
  await t.test('durability: WAIT goes to the master that owns the record', async (t) => {
    await topology.waitForReplication()
    const store = await openNodeRedisStore(t, client, [SECRET], { replicas: 1 })
    for (let i = 0; i < 10; i++) await store.set(sampleSessionId(), sampleToken(i))
    t.pass('ten records on masters all over the cluster, each acknowledged by its replica')
  })
  await t.test('three instances: one refresh per storm', (t) => oneRefreshPerStorm(t, connect))
})
