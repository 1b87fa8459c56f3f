import { once } from 'node:events'
import { Cluster, type ClusterOptions } from 'ioredis'
import t, { type Test } from 'tap'
import { redisStore, type TokenStore } from '../../plugin/index.js'
import { createSpotifyEmulator } from '../../plugin/emulator/index.js'
import { sampleSessionId, sampleToken, testTokenStore } from '../../plugin/testing/index.js'
import { build, type Built, CLIENT_ID, CLIENT_SECRET, CookieJar, REDIRECT_URI, SECRET } from '../helpers/build.js'
import { startRedisCluster, topologySkipped, type RedisClusterTopology } from '../helpers/redis-topology.js'
import { expireStored, sessionIdOf, storm } from '../helpers/sessions.js'

/*
 * The Redis store on a real Redis Cluster (3 masters, 3 replicas): the
 * contract with one and two secrets, a rotation, three app instances on one
 * session, the per-user index, and a master killed under load. Heavy: runs
 * once per CI (skipped under SPOTIFY_AUTH_TEST_MATRIX=1); the code paths are
 * covered on a single Redis by store-redis-layout and store-redis-fail-fast.
 */

const OLD_SECRET = 'an-older-session-secret-of-32-chars!!'

/** The client options the README recommends for Cluster. */
const RECOMMENDED: ClusterOptions = {
  maxRedirections: 6,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  retryDelayOnTryAgain: 100,
  redisOptions: { connectTimeout: 1000, maxRetriesPerRequest: 1 }
}

async function clusterClient (t: Test, topology: RedisClusterTopology): Promise<Cluster> {
  const client = new Cluster(topology.nodes.map(({ host, port }) => ({ host, port })), RECOMMENDED)
  // Killed masters make the client report errors: expected here.
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  await once(client, 'ready')
  return client
}

let prefixes = 0
/** A prefix of its own per test: the cluster is private and thrown away, no cleanup needed. */
function prefix (): string {
  return `cluster-${++prefixes}:`
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

function openStore (client: Cluster, keyPrefix: string, secrets: string[], options: { commandTimeout?: number } = {}): Promise<TokenStore> {
  return Promise.resolve(redisStore({ client, prefix: keyPrefix, ...options })({ secrets, clientId: CLIENT_ID })).then(closedAtEnd)
}

t.test('Redis store on a Redis Cluster', async (t) => {
  if (await topologySkipped(t)) return
  const topology = await startRedisCluster(t)
  const client = await clusterClient(t, topology)

  await t.test('passes the contract with one secret', (t) =>
    testTokenStore(t, () => openStore(client, prefix(), [SECRET], { commandTimeout: 1000 }), { lock: true, users: true, lockTtl: 100, rateLimit: true, watch: true }))

  await t.test('passes the contract with two secrets (no CROSSSLOT: one tag per session)', (t) =>
    testTokenStore(t, () => openStore(client, prefix(), [SECRET, OLD_SECRET], { commandTimeout: 1000 }), { lock: true, users: true, lockTtl: 100 }))

  await t.test('rotation: a record written under the old secret is read, refreshed, moved', async (t) => {
    const keyPrefix = prefix()
    const before = await openStore(client, keyPrefix, [OLD_SECRET])
    const after = await openStore(client, keyPrefix, [SECRET, OLD_SECRET])
    const ids = Array.from({ length: 20 }, () => sampleSessionId())
    for (const id of ids) await before.set(id, { ...sampleToken(1), userId: 'rotating' })
    for (const id of ids) {
      t.same(await after.get(id), { ...sampleToken(1), userId: 'rotating' })
      t.equal(await after.update(id, { ...sampleToken(1), userId: 'rotating' }, { ...sampleToken(1, 1), userId: 'rotating' }), true)
    }
    t.equal(await before.get(ids[0] as string), undefined, 'moved: the old secret alone no longer finds it')
    t.same(await after.sessionsOf?.('rotating'), ids, 'every session listed once, oldest refresh first')
    for (const id of ids) await after.delete(id)
    t.same(await after.sessionsOf?.('rotating'), [])
  })

  await t.test('pub/sub over the cluster: the rate-limit window and refresh news reach every instance', async (t) => {
    const emulator = await createSpotifyEmulator({
      autoApprove: true,
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
    })
    t.teardown(() => emulator.close())
    const keyPrefix = prefix()
    const instances: Built[] = []
    for (let i = 0; i < 3; i++) {
      instances.push(await build(t, { sharedEmulator: emulator, plugin: { store: redisStore({ client: await clusterClient(t, topology), prefix: keyPrefix }), retry: { limit: 0 } } }))
    }
    const [a, b, c] = instances as [Built, Built, Built]
    const { jar } = await a.login()
    const windowOf = (built: Built): number => (built.app.spotify.store.rateLimit as NonNullable<TokenStore['rateLimit']>).until()
    emulator.control.rateLimitApiCalls(1, 60)
    t.equal((await a.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })).statusCode, 429)
    const deadline = Date.now() + 10_000
    while (windowOf(b) !== windowOf(a) || windowOf(c) !== windowOf(a)) {
      t.ok(Date.now() < deadline, 'the window reaches b and c')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    emulator.control.resetCounters()
    for (const instance of [b, c]) {
      const response = await instance.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })
      t.equal(response.json().error.code, 'FST_SPOTIFY_RATE_LIMITED')
    }
    t.equal(emulator.control.counters.api, 0, 'nothing reached Spotify')

    // News of a write on one instance's store wakes a watcher on another's.
    const id = sessionIdOf(jar)
    const current = await a.app.spotify.store.get(id) as NonNullable<Awaited<ReturnType<TokenStore['get']>>>
    const stop = new AbortController()
    const timer = setTimeout(() => stop.abort(), 10_000)
    const news = (c.app.spotify.store.watch as NonNullable<TokenStore['watch']>)(id, stop.signal)
    t.equal(await b.app.spotify.store.update(id, current, { ...current, refreshes: current.refreshes + 1 }), true)
    await news
    clearTimeout(timer)
    t.notOk(stop.signal.aborted, 'heard before the deadline')
  })

  await t.test('sessions spread over the masters', async (t) => {
    const ids = Array.from({ length: 30 }, () => sampleSessionId())
    const store = await openStore(client, prefix(), [SECRET])
    for (const id of ids) await store.set(id, sampleToken(2))
    const sizes = await Promise.all(client.nodes('master').map((node) => node.dbsize()))
    t.ok(sizes.every((size) => size > 0), `keys on every master: ${sizes.join(', ')}`)
  })

  await t.test('three instances, each with its own client: 30 concurrent requests, one refresh; logout seen everywhere', async (t) => {
    const emulator = await createSpotifyEmulator({
      autoApprove: true,
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
    })
    t.teardown(() => emulator.close())
    const keyPrefix = prefix()
    const instances: Built[] = []
    for (let i = 0; i < 3; i++) {
      const store = redisStore({ client: await clusterClient(t, topology), prefix: keyPrefix })
      instances.push(await build(t, { sharedEmulator: emulator, plugin: { store, secret: [SECRET, OLD_SECRET] } }))
    }
    const [a, b, c] = instances as [Built, Built, Built]
    const { jar } = await a.login()
    const store = a.app.spotify.store
    await expireStored(store, sessionIdOf(jar))
    emulator.control.resetCounters()
    const responses = await storm(instances, jar, 30)
    t.same(responses.map((r) => r.statusCode), Array(30).fill(200))
    t.equal(emulator.control.counters.refresh_token, 1, 'one refresh across the three')

    const second = (await b.login(new CookieJar())).jar
    t.same(await c.app.spotify.sessionsOf('alice'), [sessionIdOf(jar), sessionIdOf(second)], 'both sessions, from any instance')
    t.equal((await b.app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })).statusCode, 303)
    for (const instance of instances) {
      t.equal((await instance.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })).statusCode, 401, 'logged out everywhere')
    }
    t.equal(await a.app.spotify.endSessionsOf('alice'), 1)
    t.equal((await c.app.inject({ url: '/spotify/me', headers: { cookie: second.header } })).statusCode, 401)
    t.same(await b.app.spotify.sessionsOf('alice'), [])
  })

  await t.test('a master killed: 503 without hanging while the cluster fails over, then service by itself', async (t) => {
    const emulator = await createSpotifyEmulator({
      autoApprove: true,
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
    })
    t.teardown(() => emulator.close())
    const keyPrefix = prefix()
    const app = await build(t, { sharedEmulator: emulator, plugin: { store: redisStore({ client: await clusterClient(t, topology), prefix: keyPrefix, commandTimeout: 1500 }) } })
    const { jar } = await app.login()
    t.equal((await app.request(jar, { url: '/spotify/me' })).statusCode, 200)
    await topology.waitForReplication()
    // The master of this session's record (its tag decides the slot).
    const [record] = await Promise.all(client.nodes('master').map(async (node) => await node.keys(`${keyPrefix}s:*`))).then((lists) => lists.flat())
    const killed = await topology.killMasterOf(record as string)
    const statuses: number[] = []
    let slowest = 0
    const promoted = topology.waitForFailover(killed)
    const state = { done: false }
    promoted.then(() => { state.done = true }, () => { state.done = true })
    while (!state.done) {
      const started = Date.now()
      statuses.push((await app.request(jar, { url: '/spotify/me' })).statusCode)
      slowest = Math.max(slowest, Date.now() - started)
      // Refused requests settle without reaching the timer phase, where the
      // client's retries and the helper's polls wait: let them run.
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await promoted
    t.comment(`during the failover: ${statuses.length} requests, ${statuses.filter((s) => s === 503).length} answered 503, slowest ${slowest} ms`)
    t.ok(statuses.every((status) => status === 200 || status === 503), `only 200 or 503 during the failover: ${[...new Set(statuses)].join(', ')}`)
    t.ok(statuses.includes(503), 'the outage was seen')
    t.ok(slowest < 1500 + 1000, `no request waited much beyond the command timeout (slowest ${slowest} ms)`)
    const deadline = Date.now() + 20_000
    let status = 0
    while (status !== 200 && Date.now() < deadline) {
      status = (await app.request(jar, { url: '/spotify/me' })).statusCode
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    t.equal(status, 200, 'the session survived (it was replicated) and the store recovered by itself')
    await topology.restart(killed)
  })
})
