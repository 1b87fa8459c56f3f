import { once } from 'node:events'
import { Redis, type RedisOptions } from 'ioredis'
import t, { type Test } from 'tap'
import { redisStore, type TokenStore } from '../../plugin/index.js'
import { sampleSessionId, sampleToken, testTokenStore } from '../../plugin/testing/index.js'
import { build, CLIENT_ID, SECRET } from '../helpers/build.js'
import { startRedisSentinel, topologySkipped, type RedisSentinelTopology } from '../helpers/redis-topology.js'

/*
 * The Redis store behind Redis Sentinel (a master, a replica, three
 * sentinels): the contract with one and two secrets, and service across a
 * failover, asked for (SENTINEL FAILOVER) or forced (the master killed).
 * Heavy: runs once per CI (skipped under SPOTIFY_AUTH_TEST_MATRIX=1).
 */

const OLD_SECRET = 'an-older-session-secret-of-32-chars!!'

async function sentinelClient (t: Test, topology: RedisSentinelTopology, options: RedisOptions = {}): Promise<Redis> {
  // The options the README recommends: follow the master at the switch.
  const client = new Redis({
    sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
    name: topology.name,
    failoverDetector: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    ...options
  })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  await once(client, 'ready')
  return client
}

let prefixes = 0
function prefix (): string {
  return `sentinel-${++prefixes}:`
}

/**
 * Stores built by hand are closed by hand (their subscriber connection):
 * waiting for their client's end would leave one open if the client ends
 * mid-reconnection.
 */
const opened: TokenStore[] = []
t.teardown(async () => { for (const store of opened) await store.close?.() })
function closedAtEnd (store: TokenStore): TokenStore {
  opened.push(store)
  return store
}

function openStore (client: Redis, keyPrefix: string, secrets: string[]): Promise<TokenStore> {
  return Promise.resolve(redisStore({ client, prefix: keyPrefix, commandTimeout: 1000 })({ secrets, clientId: CLIENT_ID })).then(closedAtEnd)
}

/** Retries `operation` until it resolves, within a bound (503s are expected while the master switches). */
async function eventually<T> (operation: () => Promise<T>): Promise<{ value: T, failures: number }> {
  const deadline = Date.now() + 20_000
  let failures = 0
  for (;;) {
    try {
      return { value: await operation(), failures }
    } catch (err) {
      failures++
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

t.test('Redis store behind Redis Sentinel', async (t) => {
  if (await topologySkipped(t)) return
  const topology = await startRedisSentinel(t)
  const client = await sentinelClient(t, topology)

  await t.test('passes the contract with one secret', (t) =>
    testTokenStore(t, () => openStore(client, prefix(), [SECRET]), { lock: true, users: true }))

  await t.test('passes the contract with two secrets', (t) =>
    testTokenStore(t, () => openStore(client, prefix(), [SECRET, OLD_SECRET]), { lock: true, users: true }))

  await t.test('rotation: a record written under the old secret is read and moved', async (t) => {
    const keyPrefix = prefix()
    const id = sampleSessionId()
    await (await openStore(client, keyPrefix, [OLD_SECRET])).set(id, sampleToken(1))
    const after = await openStore(client, keyPrefix, [SECRET, OLD_SECRET])
    t.equal(await after.update(id, sampleToken(1), sampleToken(1, 1)), true)
    t.equal(await (await openStore(client, keyPrefix, [OLD_SECRET])).get(id), undefined, 'moved to the new name')
    t.same(await after.get(id), sampleToken(1, 1))
  })

  await t.test('SENTINEL FAILOVER: the client follows the new master, writes keep working', async (t) => {
    const keyPrefix = prefix()
    const store = await openStore(client, keyPrefix, [SECRET])
    const id = sampleSessionId()
    await store.set(id, sampleToken(2))
    await topology.waitForReplication()
    const before = await topology.master()
    const after = await topology.failover()
    t.not(after.port, before.port)
    const written = await eventually(() => store.update(id, sampleToken(2), sampleToken(2, 1)))
    t.equal(written.value, true, `written on the new master (${written.failures} refusals while switching)`)
    t.same(await store.get(id), sampleToken(2, 1))
    const role = await client.call('ROLE') as [string]
    t.equal(role[0], 'master', 'the client talks to a master, not the demoted one')
  })

  await t.test('the master killed: 503 while the sentinels decide, then service by itself', async (t) => {
    const app = await build(t, { plugin: { store: redisStore({ client: await sentinelClient(t, topology), prefix: prefix(), commandTimeout: 1000 }) } })
    const { jar } = await app.login()
    await topology.waitForReplication()
    const killed = await topology.killMaster()
    const during = await app.request(jar, { url: '/spotify/me' })
    t.equal(during.statusCode, 503)
    t.equal(during.json().error.code, 'FST_SPOTIFY_STORE_UNAVAILABLE')
    await topology.waitForFailover(killed)
    // A pause between tries: refused requests settle without reaching the
    // timer phase, where the client's reconnection waits.
    const back = await eventually(async () => {
      const response = await app.request(jar, { url: '/spotify/me' })
      if (response.statusCode === 503) throw new Error('still 503')
      return response.statusCode
    })
    t.equal(back.value, 200, 'the session was replicated and the store is back')
    await topology.restart(killed)
  })
})
