import t from 'tap'
import { createSentinel } from 'redis'
import type { NodeRedisClient } from '../../plugin/index.js'
import { sampleSessionId, sampleToken, testTokenStore } from '../../plugin/testing/index.js'
import { SECRET } from '../helpers/build.js'
import { OLD_SECRET, oneRefreshPerStorm, openNodeRedisStore } from '../helpers/node-redis-topology.js'
import { startRedisSentinel, topologySkipped } from '../helpers/redis-topology.js'

/*
 * The Redis store on node-redis's Sentinel client (a master, a replica, 3
 * sentinels): the contract with one and two secrets, durability, and three
 * app instances with one refresh per storm. Heavy:
 * `npm run test:topology`.
 */

t.test('node-redis createSentinel() behind Sentinel', async (t) => {
  if (await topologySkipped(t)) return
  const topology = await startRedisSentinel(t)
  const connect = async (): Promise<NodeRedisClient> => {
    const client = createSentinel({ name: topology.name, sentinelRootNodes: topology.sentinels.map(({ host, port }) => ({ host, port })) })
    client.on('error', () => {})
    t.teardown(async () => { if (client.isOpen) await client.destroy() })
    await client.connect()
    return client as unknown as NodeRedisClient
  }
  const client = await connect()
  await t.test('passes the contract with one secret', (t) =>
    testTokenStore(t, () => openNodeRedisStore(t, client, [SECRET]), { lock: true, users: true, lockTtl: 100, rateLimit: true, watch: true }))
  await t.test('passes the contract with two secrets', (t) =>
    testTokenStore(t, () => openNodeRedisStore(t, client, [SECRET, OLD_SECRET]), { lock: true, users: true, lockTtl: 100 }))
  await t.test('durability: WAIT on the leased master connection', async (t) => {
    await topology.waitForReplication()
    const store = await openNodeRedisStore(t, client, [SECRET], { replicas: 1 })
    await store.set(sampleSessionId(), sampleToken(1))
    t.pass('acknowledged by the replica')
  })
  await t.test('three instances: one refresh per storm', (t) => oneRefreshPerStorm(t, connect))
})
