import t, { type Test } from 'tap'
import { pgStore, type PgStoreOptions, type TokenStore } from '../../plugin/index.js'
import { createSpotifyEmulator, type SpotifyEmulator } from '../../plugin/emulator/index.js'
import { sealedRecords } from '../../plugin/store/kit/records.js'
import { build, CLIENT_ID, CLIENT_SECRET, type Built, CookieJar, REDIRECT_URI, SECRET } from '../helpers/build.js'
import { expireStored, sessionIdOf, storm } from '../helpers/sessions.js'
import { eventually } from '../helpers/eventually.js'
import { newPool, pgRelay, postgresOrSkip, terminateBackends, type TestDatabase } from '../helpers/postgres.js'

type Pool = ReturnType<typeof newPool>

interface Cluster {
  emulator: SpotifyEmulator
  instances: Built[]
  pools: Pool[]
  store: TokenStore
}

/** Three app instances, each with its own pool, sharing one table and one emulator. */
async function cluster (t: Test, table: string, options: { url?: string, store?: Partial<PgStoreOptions>, rotate?: boolean } = {}): Promise<Cluster> {
  const emulator = await createSpotifyEmulator({
    autoApprove: true,
    rotateRefreshTokens: options.rotate === true,
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
  })
  t.teardown(() => emulator.close())
  const instances: Built[] = []
  const pools: Pool[] = []
  for (let i = 0; i < 3; i++) {
    const pool = newPool(t, options.url === undefined ? {} : { connectionString: options.url })
    pools.push(pool)
    instances.push(await build(t, { sharedEmulator: emulator, plugin: { store: pgStore({ pool, table, ...options.store }) } }))
  }
  return { emulator, instances, pools, store: (instances[0] as Built).app.spotify.store }
}

function statuses (responses: Array<{ statusCode: number }>): number[] {
  return responses.map((r) => r.statusCode)
}

t.test('one refresh per session across instances sharing PostgreSQL', async (t) => {
  const db = await postgresOrSkip(t)
  if (db === undefined) return

  await t.test('60 concurrent requests over 3 instances: all succeed, exactly one refresh', async (t) => {
    const { emulator, instances, store } = await cluster(t, db.table())
    const { jar } = await (instances[0] as Built).login()
    await expireStored(store, sessionIdOf(jar))
    emulator.control.resetCounters()
    const responses = await storm(instances, jar, 60)
    t.same(statuses(responses), Array(60).fill(200))
    t.equal(emulator.control.counters.refresh_token, 1)
  })

  await t.test('with rotating refresh tokens, three storms in a row', async (t) => {
    const { emulator, instances, store } = await cluster(t, db.table(), { rotate: true })
    const { jar } = await (instances[1] as Built).login()
    for (const round of [1, 2, 3]) {
      await expireStored(store, sessionIdOf(jar))
      emulator.control.resetCounters()
      const responses = await storm(instances, jar, 60)
      t.same(statuses(responses), Array(60).fill(200), `round ${round}: all succeed`)
      t.equal(emulator.control.counters.refresh_token, 1, `round ${round}: one refresh`)
    }
    t.equal((await store.get(sessionIdOf(jar)))?.refreshes, 6, 'three expiries and three refreshes, in order')
  })

  await t.test('a logout on one instance is seen by all', async (t) => {
    const { instances } = await cluster(t, db.table())
    const [a, b, c] = instances as [Built, Built, Built]
    const { jar } = await a.login()
    for (const instance of instances) t.equal((await instance.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })).statusCode, 200)
    const cookie = jar.header
    t.equal((await b.request(jar, { method: 'POST', url: '/logout' })).statusCode, 303)
    for (const instance of [a, b, c]) {
      const response = await instance.app.inject({ url: '/spotify/me', headers: { cookie } })
      t.equal(response.statusCode, 401, 'the old cookie opens nothing')
    }
  })

  await t.test('logout racing a refresh leaves no session behind', async (t) => {
    const { emulator, instances, store } = await cluster(t, db.table())
    const [a, b] = instances as [Built, Built]
    const { jar } = await a.login()
    const sessionId = sessionIdOf(jar)
    await expireStored(store, sessionId)
    const hold = emulator.control.holdTokenCalls()
    const refreshing = a.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })
    await hold.arrived
    t.equal((await b.app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })).statusCode, 303)
    hold.release()
    t.equal((await refreshing).statusCode, 401, 'the refresh found the session gone')
    t.equal(await store.get(sessionId), undefined, 'and did not write it back')
  })

  await t.test('a lock holder that dies: another instance refreshes once its lease lapses', async (t) => {
    const table = db.table()
    const { emulator, instances, store } = await cluster(t, table)
    const { jar } = await (instances[2] as Built).login()
    const sessionId = sessionIdOf(jar)
    await expireStored(store, sessionId)
    // A holder that takes the lease (300 ms + twice its 50 ms query timeout)
    // and is never heard of again.
    const holder = await pgStore({ pool: db.pool, table, queryTimeout: 50 })({ secrets: [SECRET], clientId: CLIENT_ID })
    t.type(await (holder.lock as NonNullable<TokenStore['lock']>)(sessionId, 300), 'function')
    emulator.control.resetCounters()
    const started = Date.now()
    const responses = await storm(instances, jar, 30)
    t.same(statuses(responses), Array(30).fill(200))
    t.equal(emulator.control.counters.refresh_token, 1)
    t.ok(Date.now() - started >= 350, 'the waiters waited for the lease to lapse')
  })
})

t.test('PostgreSQL failures: 503 with a clear code, then recovery by itself', async (t) => {
  const db = await postgresOrSkip(t)
  if (db === undefined) return

  await t.test('connections terminated while queries wait: 503, and the next storm refreshes once', async (t) => {
    const table = db.table()
    const { emulator, instances, pools, store } = await cluster(t, table, { store: { queryTimeout: 10_000 } })
    const { jar } = await (instances[0] as Built).login()
    const sessionId = sessionIdOf(jar)
    await expireStored(store, sessionId)
    // An open transaction that inserted the session's lease row: every
    // instance's lock query waits for it, inside PostgreSQL.
    const blocker = await db.pool.connect()
    t.teardown(() => blocker.release(true))
    const leaseName = sealedRecords([SECRET]).names(sessionId)[0]
    await blocker.query('BEGIN')
    await blocker.query(`INSERT INTO ${table}_locks (name, token, expires_at) VALUES ($1, 'blocker', now() - interval '1 second')`, [leaseName])
    emulator.control.resetCounters()
    const pending = storm(instances, jar, 60)
    const storming = { over: false }
    pending.then(() => { storming.over = true }, () => { storming.over = true })
    await waitingOnLocks(db, pools, 3)
    // Until every request has answered: a request that reaches the refresh
    // after a termination (a busy machine) sends a lock query of its own,
    // which would wait on the blocker past its deadline and, once the
    // blocker rolls back, take the lease for nobody (every refresh then
    // waits for it to lapse: 503s in the next storm).
    let terminated = 0
    while (!storming.over) {
      for (const pool of pools) terminated += await terminateBackends(db.pool, pool.applicationName)
      await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 20))])
    }
    t.ok(terminated >= 3, `${terminated} connections terminated`)
    const responses = await pending
    t.same(statuses(responses), Array(60).fill(503))
    t.same(new Set(responses.map((r) => r.json().error.code)), new Set(['FST_SPOTIFY_STORE_UNAVAILABLE']))
    t.equal(emulator.control.counters.refresh_token, 0, 'no refresh without the lock')
    await blocker.query('ROLLBACK')
    // Every request failed on its lock query: no connection was opened
    // since, so the pools end up empty once they notice the terminations.
    await eventually('the pools dropping dead connections', async () => pools.every((pool) => pool.totalCount === 0), { within: 5000 })

    const again = await storm(instances, jar, 60)
    t.same(statuses(again), Array(60).fill(200), 'recovered: new connections, no restart')
    t.equal(emulator.control.counters.refresh_token, 1)
  })

  await t.test('connections terminated under steady traffic: only 200 or 503, then 200', async (t) => {
    const { instances, pools } = await cluster(t, db.table())
    const { jar } = await (instances[0] as Built).login()
    const seen = new Map<number, number>()
    const state = { running: true }
    const traffic = (async () => {
      while (state.running) {
        const responses = await storm(instances, jar, 6)
        for (const status of statuses(responses)) seen.set(status, (seen.get(status) ?? 0) + 1)
      }
    })()
    for (let round = 0; round < 5; round++) {
      await eventually('traffic', async () => {
        const before = [...seen.values()].reduce((a, b) => a + b, 0)
        return before > round * 30
      })
      for (const pool of pools) await terminateBackends(db.pool, pool.applicationName)
    }
    state.running = false
    await traffic
    t.same([...seen.keys()].filter((status) => status !== 200 && status !== 503), [], `statuses seen: ${JSON.stringify([...seen])}`)
    // Idle now: once the pools have noticed the last terminations and dropped
    // those connections (a request could otherwise still pick one: one 503),
    // every request succeeds on new connections.
    for (const pool of pools) await terminateBackends(db.pool, pool.applicationName)
    await eventually('the pools dropping dead connections', async () => pools.every((pool) => pool.totalCount === 0), { within: 5000 })
    t.same(statuses(await storm(instances, jar, 30)), Array(30).fill(200), 'then all succeed')
  })

  await t.test('PostgreSQL hung, then down: 503 within queryTimeout, and back by itself', async (t) => {
    const relay = await pgRelay(t)
    const { instances } = await cluster(t, db.table(), { url: relay.url, store: { queryTimeout: 300 } })
    const [a] = instances as [Built]
    const { jar } = await a.login()
    t.equal((await a.request(jar, { url: '/spotify/me' })).statusCode, 200)

    relay.freeze()
    let started = Date.now()
    const frozen = await a.request(jar, { url: '/spotify/me' })
    t.equal(frozen.statusCode, 503)
    t.equal(frozen.json().error.code, 'FST_SPOTIFY_STORE_UNAVAILABLE')
    t.ok(Date.now() - started < 1500, `answered in ${Date.now() - started} ms`)
    relay.thaw()
    await eventually('recovery after a hang', async () => (await a.request(jar, { url: '/spotify/me' })).statusCode === 200, { within: 5000 })

    await relay.stop()
    started = Date.now()
    const down = await a.request(jar, { url: '/spotify/me' })
    t.equal(down.statusCode, 503)
    t.ok(Date.now() - started < 1500, 'refused at once')
    t.equal((await a.request(new CookieJar(), { url: '/spotify/me' })).statusCode, 401, 'a request without a session needs no store')
    await relay.start()
    await eventually('recovery after a restart', async () => (await a.request(jar, { url: '/spotify/me' })).statusCode === 200, { within: 5000 })
    t.pass('the session survived the outage, no restart of the app')
  })

  await t.test('a drained pool: 503 within queryTimeout, then 200 once a connection is free', async (t) => {
    const pool = newPool(t, { max: 1, connectionTimeoutMillis: 0 })
    const app = await build(t, { plugin: { store: pgStore({ pool, table: db.table(), queryTimeout: 300 }) } })
    const { jar } = await app.login()
    const held = await pool.connect()
    const started = Date.now()
    const drained = await app.request(jar, { url: '/spotify/me' })
    t.equal(drained.statusCode, 503)
    t.ok(Date.now() - started < 1500, 'bounded by queryTimeout, not by the pool')
    held.release()
    t.equal((await app.request(jar, { url: '/spotify/me' })).statusCode, 200)
  })
})

/** Waits until `count` connections of the pools wait for a lock inside PostgreSQL. */
async function waitingOnLocks (db: TestDatabase, pools: Pool[], count: number): Promise<void> {
  const names = pools.map((pool) => pool.applicationName)
  await eventually(`${count} queries waiting on the lease row`, async () => {
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ANY($1) AND wait_event_type = \'Lock\'', [names])
    return (rows[0] as { n: number }).n >= count
  })
}
