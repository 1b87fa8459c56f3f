import type { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { redisStore, type TokenStore } from '../plugin/index.js'
import { createSpotifyEmulator, type SpotifyEmulator } from '../plugin/emulator/index.js'
import { build, CLIENT_ID, CLIENT_SECRET, type Built, CookieJar, REDIRECT_URI, SECRET } from './helpers/build.js'
import { expireStored, sessionIdOf, storm } from './helpers/sessions.js'
import { newClient, privateRedis, REDIS_URL, redisOrSkip, uniquePrefix } from './helpers/redis.js'

type Tap = Test

/** Three app instances, each with its own Redis client, sharing one Redis and one emulator. */
async function cluster (t: Tap, prefix: string, options: { url?: string, commandTimeout?: number, failFastFor?: number, emulator?: SpotifyEmulator } = {}) {
  const emulator = options.emulator ?? await createSpotifyEmulator({
    autoApprove: true,
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
  })
  if (options.emulator === undefined) t.teardown(() => emulator.close())
  const instances: Built[] = []
  const clients: Redis[] = []
  for (let i = 0; i < 3; i++) {
    const client = await newClient(t, options.url ?? REDIS_URL)
    clients.push(client)
    const store = redisStore({
      client,
      prefix,
      ...(options.commandTimeout === undefined ? {} : { commandTimeout: options.commandTimeout }),
      ...(options.failFastFor === undefined ? {} : { failFastFor: options.failFastFor })
    })
    instances.push(await build(t, { sharedEmulator: emulator, plugin: { store } }))
  }
  return { emulator, instances, clients, store: (instances[0] as Built).app.spotify.store }
}

t.test('one refresh per session across the cluster', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return

  await t.test('60 concurrent requests over 3 instances: all succeed, exactly one refresh', async (t) => {
    const { emulator, instances, store } = await cluster(t, uniquePrefix(t, redis))
    const { jar } = await (instances[0] as Built).login()
    await expireStored(store, sessionIdOf(jar))
    emulator.control.resetCounters()
    const responses = await storm(instances, jar, 60)
    t.same(responses.map((r) => r.statusCode), Array(60).fill(200))
    t.equal(emulator.control.counters.refresh_token, 1)
  })

  await t.test('with rotating refresh tokens, twice in a row', async (t) => {
    const { emulator, instances, store } = await cluster(t, uniquePrefix(t, redis))
    emulator.control.setRotateRefreshTokens(true)
    const { jar } = await (instances[1] as Built).login()
    for (const round of [1, 2]) {
      await expireStored(store, sessionIdOf(jar))
      emulator.control.resetCounters()
      const responses = await storm(instances, jar, 60)
      t.same(responses.map((r) => r.statusCode), Array(60).fill(200), `round ${round}: all succeed`)
      t.equal(emulator.control.counters.refresh_token, 1, `round ${round}: one refresh`)
    }
    t.equal((await store.get(sessionIdOf(jar)))?.refreshes, 4, 'two expiries and two refreshes, in order')
  })

  await t.test('a lock holder that dies: another instance refreshes after the lock TTL', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const { emulator, instances, store } = await cluster(t, prefix)
    const { jar } = await (instances[2] as Built).login()
    const sessionId = sessionIdOf(jar)
    await expireStored(store, sessionId)
    // A holder that takes the lock (300 ms + twice its 50 ms command timeout)
    // and is never heard of again. It needs no events: with them, opening
    // its subscriber connection (a connect, then SUBSCRIBE) fell under the
    // 50 ms bound on a busy machine.
    const holder = await redisStore({ client: redis, prefix, commandTimeout: 50, pubsub: false })({ secrets: [SECRET], clientId: CLIENT_ID })
    const dead = await (holder.lock as NonNullable<TokenStore['lock']>)(sessionId, 300)
    t.type(dead, 'function')
    emulator.control.resetCounters()
    const started = Date.now()
    const responses = await storm(instances, jar, 30)
    t.same(responses.map((r) => r.statusCode), Array(30).fill(200))
    t.equal(emulator.control.counters.refresh_token, 1)
    t.ok(Date.now() - started >= 350, 'the waiters waited for the lock to lapse')
  })

  await t.test('a lock that never lapses in time answers 503, and the session survives', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const { emulator, instances, store } = await cluster(t, prefix)
    const quick = await build(t, { sharedEmulator: emulator, plugin: { store: redisStore({ client: await newClient(t), prefix }), timeout: 50 } })
    const { jar } = await (instances[0] as Built).login()
    const sessionId = sessionIdOf(jar)
    await expireStored(store, sessionId)
    const held = await (store.lock as NonNullable<TokenStore['lock']>)(sessionId, 60_000)
    const busy = await quick.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })
    t.equal(busy.statusCode, 503)
    t.equal(busy.json().error.code, 'FST_SPOTIFY_REFRESH_BUSY')
    await held?.()
    // quick's 50 ms bounds its own token call too, which a busy machine can
    // exceed (a 504): the survivor is checked where calls get their default.
    const after = await (instances[0] as Built).app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })
    t.equal(after.statusCode, 200, 'the session survived: another instance refreshes it')
  })

  await t.test('logout racing a refresh leaves no session behind', async (t) => {
    const { emulator, instances, store } = await cluster(t, uniquePrefix(t, redis))
    const [a, b] = instances as [Built, Built]
    const { jar } = await a.login()
    const sessionId = sessionIdOf(jar)
    await expireStored(store, sessionId)
    const hold = emulator.control.holdTokenCalls()
    const refreshing = a.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })
    await hold.arrived
    const logout = await b.app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })
    t.equal(logout.statusCode, 303)
    hold.release()
    const response = await refreshing
    t.equal(response.statusCode, 401, 'the refresh found the session gone')
    t.equal(await store.get(sessionId), undefined, 'and did not write it back')
    t.equal((await b.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })).statusCode, 401)
  })

  await t.test('a lock taken after a sibling finished its refresh uses the sibling\'s token', async (t) => {
    // A custom store around the Redis store that lets us stop instance a
    // between reading the stale token and asking for the lock.
    const prefix = uniquePrefix(t, redis)
    const emulator = await createSpotifyEmulator({
      autoApprove: true,
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
    })
    t.teardown(() => emulator.close())
    const full = await redisStore({ client: await newClient(t), prefix })({ secrets: [SECRET], clientId: CLIENT_ID })
    let reached!: () => void
    const atLock = new Promise<void>((resolve) => { reached = resolve })
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    const gated: TokenStore = {
      get: full.get,
      set: full.set,
      update: full.update,
      delete: full.delete,
      async lock (sessionId, ttlMs) {
        reached()
        await gate
        return await (full.lock as NonNullable<TokenStore['lock']>)(sessionId, ttlMs)
      }
    }
    const a = await build(t, { sharedEmulator: emulator, plugin: { store: gated } })
    const b = await build(t, { sharedEmulator: emulator, plugin: { store: redisStore({ client: await newClient(t), prefix }) } })
    const { jar } = await b.login()
    await expireStored(full, sessionIdOf(jar))
    emulator.control.resetCounters()
    const viaA = a.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })
    await atLock
    t.equal((await b.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })).statusCode, 200)
    open()
    t.equal((await viaA).statusCode, 200)
    t.equal(emulator.control.counters.refresh_token, 1, 'a found the new token under the lock and did not refresh again')
  })

  await t.test('invalid_grant after a lost race uses the sibling\'s rotated token', async (t) => {
    // Without a lock (a custom store may not offer one), two instances can
    // race: a's refresh reaches Spotify after b's rotated the refresh token.
    const prefix = uniquePrefix(t, redis)
    const emulator = await createSpotifyEmulator({
      autoApprove: true,
      rotateRefreshTokens: true,
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
    })
    t.teardown(() => emulator.close())
    const withoutLock = async (): Promise<TokenStore> => {
      const full = await redisStore({ client: await newClient(t), prefix })({ secrets: [SECRET], clientId: CLIENT_ID })
      return { get: full.get, set: full.set, update: full.update, delete: full.delete }
    }
    const a = await build(t, { sharedEmulator: emulator, plugin: { store: await withoutLock() } })
    const b = await build(t, { sharedEmulator: emulator, plugin: { store: await withoutLock() } })
    const store = a.app.spotify.store
    const { jar } = await a.login()
    const sessionId = sessionIdOf(jar)
    await expireStored(store, sessionId)
    emulator.control.resetCounters()
    const hold = emulator.control.holdTokenCalls()
    const viaA = a.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })
    await hold.arrived
    t.equal((await b.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })).statusCode, 200, 'b refreshed and rotated')
    hold.release()
    const response = await viaA
    t.equal(response.statusCode, 200, 'a used b\'s token instead of logging the user out')
    t.equal(emulator.control.counters.refresh_token, 2, 'both refreshes reached Spotify; a\'s was refused')
    t.ok(await store.get(sessionId), 'the session is still there')
  })
})

/** The first status other than 503 of `request` repeated, within a bound: a store in its fail-fast window answers 503. */
async function recovered (request: () => Promise<{ statusCode: number }>): Promise<number> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const { statusCode } = await request()
    if (statusCode !== 503 || Date.now() > deadline) return statusCode
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('Redis down: 503 with a clear code, then recovery by itself', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  const server = await privateRedis(t)
  const { instances, clients } = await cluster(t, 'down-test:', { url: server.url, commandTimeout: 300, failFastFor: 200 })
  const [a] = instances as [Built]
  const { jar } = await a.login()
  t.equal((await a.request(jar, { url: '/spotify/me' })).statusCode, 200)

  // Frozen: commands hang, the store gives up after commandTimeout.
  server.freeze()
  const frozen = await a.request(jar, { url: '/spotify/me' })
  t.equal(frozen.statusCode, 503)
  t.equal(frozen.json().error.code, 'FST_SPOTIFY_STORE_UNAVAILABLE')
  server.thaw()
  // The store refuses at once for failFastFor after the timeout, then tries again.
  t.equal(await recovered(() => a.request(jar, { url: '/spotify/me' })), 200, 'back with its data')

  // Stopped: the client is disconnected, requests fail at once.
  // Plain listeners: events.once would reject on the reconnect errors ioredis emits.
  const closed = Promise.all(clients.map((client) => new Promise((resolve) => client.once('close', resolve))))
  await server.stop()
  await closed
  const down = await a.request(new CookieJar(), { url: '/spotify/me' })
  t.equal(down.statusCode, 401, 'a request without a session needs no store')
  const stopped = await a.request(jar, { url: '/spotify/me' })
  t.equal(stopped.statusCode, 503)
  const ready = Promise.all(clients.map((client) => new Promise((resolve) => client.once('ready', resolve))))
  await server.start()
  await ready
  // The restarted server kept nothing (no persistence): a fresh login works.
  const again = await a.login()
  t.equal(again.callback.statusCode, 302)
  t.equal((await a.request(again.jar, { url: '/spotify/me' })).statusCode, 200, 'service resumed by itself')
})
