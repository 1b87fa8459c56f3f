import t from 'tap'
import { memoryStore, pgStore, redisStore, type TokenStore } from '../plugin/index.js'
import { build } from './helpers/build.js'
import { startDemo } from './helpers/demo.js'
import { eventually } from './helpers/eventually.js'
import { newPool, pgRelay, postgresOrSkip } from './helpers/postgres.js'
import { newClient, privateRedis, redisOrSkip } from './helpers/redis.js'

/*
 * `fastify.spotify.health()` for a readiness route: the store's reachability
 * and the rate-limit window, with no call to Spotify, whatever the store.
 */

t.test('the memory store is always ok; the rate-limit window shows until it ends', async (t) => {
  const store = memoryStore()
  const { app, emulator } = await build(t, { plugin: { store } })
  const before = { ...emulator.control.counters }
  t.same(await app.spotify.health(), { store: 'ok', rateLimitedUntil: null })
  const until = Date.now() + 60_000
  await store.rateLimit?.hold(until)
  t.same(await app.spotify.health(), { store: 'ok', rateLimitedUntil: until })
  await store.rateLimit?.hold(Date.now() - 1)
  t.same(emulator.control.counters, before, 'no call to Spotify')
})

t.test('a past window is no window', async (t) => {
  const store = memoryStore()
  await store.rateLimit?.hold(Date.now() - 1000)
  const { app } = await build(t, { plugin: { store } })
  t.equal((await app.spotify.health()).rateLimitedUntil, null)
})

t.test('a store without ping is probed with a get, and one that hangs or throws is unavailable', async (t) => {
  const inner = memoryStore()
  let mode: 'ok' | 'hang' | 'throw' | 'reject' = 'ok'
  let gets = 0
  const store: TokenStore = {
    get (id) {
      gets++
      if (mode === 'hang') return new Promise(() => {})
      if (mode === 'throw') throw new Error('a bug in the store')
      if (mode === 'reject') return Promise.reject(new Error('down'))
      return inner.get(id)
    },
    set: (id, token) => inner.set(id, token),
    update: (id, previous, next) => inner.update(id, previous, next),
    delete: (id) => inner.delete(id)
  }
  const { app } = await build(t, { plugin: { store } })
  t.equal((await app.spotify.health()).store, 'ok')
  t.equal(gets, 1, 'one get')
  for (const each of ['hang', 'throw', 'reject'] as const) {
    mode = each
    const started = Date.now()
    t.equal((await app.spotify.health()).store, 'unavailable', each)
    t.ok(Date.now() - started < 5000, `${each}: answered within the health timeout`)
  }
})

t.test('Redis: unavailable while its server is stopped, ok once it is back', async (t) => {
  if (await redisOrSkip(t) === undefined) return
  const server = await privateRedis(t)
  const client = await newClient(t, server.url)
  const { app } = await build(t, { plugin: { store: redisStore({ client, commandTimeout: 300, failFastFor: 0 }) } })
  t.equal((await app.spotify.health()).store, 'ok')
  await server.stop()
  t.equal((await app.spotify.health()).store, 'unavailable')
  await server.start()
  await eventually('the store answers again', async () => (await app.spotify.health()).store === 'ok')
})

t.test('PostgreSQL: unavailable while its link is down, ok once it is back', async (t) => {
  const db = await postgresOrSkip(t)
  if (db === undefined) return
  const relay = await pgRelay(t)
  const pool = newPool(t, { connectionString: relay.url })
  const { app } = await build(t, { plugin: { store: pgStore({ pool, table: db.table(), queryTimeout: 500 }) } })
  t.equal((await app.spotify.health()).store, 'ok')
  await relay.stop()
  t.equal((await app.spotify.health()).store, 'unavailable')
  relay.freeze()
  await relay.start()
  t.equal((await app.spotify.health()).store, 'unavailable', 'a hung link too')
  relay.thaw()
  await eventually('the store answers again', async () => (await app.spotify.health()).store === 'ok')
})

t.test('the demo serves /health: 200 with the store up, 503 without', async (t) => {
  const demo = await startDemo(t)
  const up = await demo.app.inject({ url: '/health' })
  t.equal(up.statusCode, 200)
  t.same(up.json(), { store: 'ok', rateLimitedUntil: null })
  t.equal(up.headers['cache-control'], 'no-store')
  const ping = demo.app.spotify.store.ping
  t.teardown(() => { (demo.app.spotify.store as { ping?: unknown }).ping = ping });
  (demo.app.spotify.store as { ping?: unknown }).ping = async () => { throw new Error('down') }
  const down = await demo.app.inject({ url: '/health' })
  t.equal(down.statusCode, 503)
  t.equal(down.json().store, 'unavailable')
})
