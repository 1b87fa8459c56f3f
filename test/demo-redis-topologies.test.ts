import { spawnSync } from 'node:child_process'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { buildDemo } from '../demo/app.js'
import { DemoConfigError } from '../demo/config.js'
import { REDIS_PREFIX } from '../demo/store.js'
import { Browser, freePort, startDemo, testConfig } from './helpers/demo.js'
import { privateRedis } from './helpers/redis.js'
import { ask, startRedisSentinel, startSingleNodeCluster, topologySkipped, type NodeAddress } from './helpers/redis-topology.js'

/*
 * The demo on a Redis Cluster (REDIS_CLUSTER_NODES) and behind Sentinel
 * (REDIS_SENTINELS + REDIS_SENTINEL_NAME), and what it refuses at start-up.
 * The light cases use a one-node cluster and a one-sentinel setup; the
 * failover runs once per CI (skipped under SPOTIFY_AUTH_TEST_MATRIX=1).
 */

/** Skips loudly (fails under CI) when redis-server is missing: these start their own. */
function redisServerOrSkip (t: Test): boolean {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0) return true
  if (process.env.CI !== undefined) t.fail('redis-server is not in PATH: CI must run the demo\'s Redis topology tests')
  else t.comment('!!! SKIPPED: redis-server is not in PATH')
  return false
}

const address = ({ host, port }: NodeAddress): string => `${host}:${port}`

/** The demo's failure to build with `env`, as its one-line message. */
async function refusal (env: Record<string, string>): Promise<string> {
  const failure = await buildDemo(testConfig(env)).catch((err: unknown) => err)
  if (!(failure instanceof DemoConfigError)) throw new Error(`expected a DemoConfigError, got ${String(failure)}`)
  return failure.message
}

/** Logs in through the demo, then checks the session works; resolves the browser. */
async function loggedIn (t: Test, env: Record<string, string>): Promise<Browser> {
  const demo = await startDemo(t, env)
  const browser = new Browser(demo.app)
  t.equal((await browser.login()).statusCode, 302, 'logged in')
  t.equal(await browser.loggedInAs(), 'Alice Andersson', 'the session is read back')
  return browser
}

t.test('REDIS_CLUSTER_NODES, and a cluster node refused as REDIS_URL', async (t) => {
  if (!redisServerOrSkip(t)) return
  const node = await startSingleNodeCluster(t)
  t.equal(await refusal({ REDIS_URL: `redis://${address(node)}` }),
    `REDIS_URL: redis://${address(node)} is a Redis Cluster node: set REDIS_CLUSTER_NODES=host:port,host:port,… (some of the cluster's nodes) instead of REDIS_URL`)
  const demo = await startDemo(t, { REDIS_CLUSTER_NODES: address(node) })
  t.equal(demo.store.description, `in the Redis Cluster at ${address(node)}`)
  const browser = new Browser(demo.app)
  t.equal((await browser.login()).statusCode, 302)
  const keys = await ask(node, 'KEYS', `${REDIS_PREFIX}s:{*`) as string[]
  t.equal(keys.length, 1, 'one record, under its hash tag')
  t.equal(await browser.loggedInAs(), 'Alice Andersson')
})

t.test('a replica refused as REDIS_URL', async (t) => {
  if (!redisServerOrSkip(t)) return
  const [master, replica] = [await privateRedis(t), await privateRedis(t)]
  const client = new Redis(replica.url)
  t.teardown(() => client.disconnect())
  await client.call('REPLICAOF', '127.0.0.1', new URL(master.url).port)
  t.match(await refusal({ REDIS_URL: replica.url }),
    /^REDIS_URL: redis:\/\/127\.0\.0\.1:\d+ is a replica, which refuses writes: point REDIS_URL at the master, or, behind Sentinel, set REDIS_SENTINELS and REDIS_SENTINEL_NAME instead$/)
})

t.test('unreachable cluster nodes or sentinels stop start-up with one line', async (t) => {
  const [a, b] = [await freePort(), await freePort()]
  t.equal(await refusal({ REDIS_CLUSTER_NODES: `127.0.0.1:${a},127.0.0.1:${b}` }),
    `REDIS_CLUSTER_NODES: no Redis Cluster answers at 127.0.0.1:${a},127.0.0.1:${b}: check the nodes, or unset REDIS_CLUSTER_NODES to keep sessions in memory`)
  t.equal(await refusal({ REDIS_SENTINELS: `127.0.0.1:${a}`, REDIS_SENTINEL_NAME: 'mymaster' }),
    `REDIS_SENTINELS: no sentinel at 127.0.0.1:${a} names a reachable master "mymaster": check REDIS_SENTINELS and REDIS_SENTINEL_NAME`)
})

t.test('REDIS_SENTINELS: sessions in the master the sentinels name', async (t) => {
  if (!redisServerOrSkip(t)) return
  const topology = await startRedisSentinel(t, { sentinels: 1 })
  const demo = await startDemo(t, { REDIS_SENTINELS: topology.sentinels.map(address).join(','), REDIS_SENTINEL_NAME: topology.name })
  t.equal(demo.store.description, `in Redis behind Sentinel "${topology.name}" at ${topology.sentinels.map(address).join(',')}`)
  const browser = new Browser(demo.app)
  t.equal((await browser.login()).statusCode, 302)
  t.equal((await ask(await topology.master(), 'KEYS', `${REDIS_PREFIX}s:*`) as string[]).length, 1, 'written to the master')
})

t.test('behind Sentinel, after SENTINEL FAILOVER the demo writes to the new master', async (t) => {
  if (await topologySkipped(t)) return
  const topology = await startRedisSentinel(t)
  const env = { REDIS_SENTINELS: topology.sentinels.map(address).join(','), REDIS_SENTINEL_NAME: topology.name }
  const first = await loggedIn(t, env)
  await topology.waitForReplication()
  const old = await topology.master()
  const promoted = await topology.failover()
  t.not(promoted.port, old.port)
  // The demo's client follows the switch (failoverDetector): a new login
  // writes to the new master, a refresh of the first session too.
  let status = 0
  const deadline = Date.now() + 20_000
  while (status !== 200 && Date.now() < deadline) {
    status = (await first.request({ method: 'POST', url: '/demo/refresh', html: false })).statusCode
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(status, 200, 'the refresh was written after the switch')
  const second = new Browser(first.app)
  t.equal((await second.login()).statusCode, 302, 'a login after the switch')
  t.equal((await ask(promoted, 'KEYS', `${REDIS_PREFIX}s:*`) as string[]).length, 2, 'both sessions on the new master')
  t.equal((await ask(old, 'ROLE') as [string])[0], 'slave', 'the old master is a replica now')
})
