import type { Redis } from 'ioredis'
import t, { type Test as Tap } from 'tap'
import { redisStore, type TokenStore } from '../plugin/index.js'
import { createSpotifyEmulator } from '../plugin/emulator/index.js'
import { build, CLIENT_ID, CLIENT_SECRET, type Built, REDIRECT_URI, SECRET } from './helpers/build.js'
import { newClient, privateRedis, redisOrSkip, uniquePrefix } from './helpers/redis.js'
import { eventually } from './helpers/eventually.js'
import { appName, rateLimitKey } from '../plugin/store/redis/keys.js'

/** The window's key of the test app (named after its client id) under `prefix`. */
const windowKey = (prefix: string): string => rateLimitKey(prefix, appName(CLIENT_ID))

/** `count` app instances, each with its own Redis client, on one Redis prefix and one emulator. */
async function instances (t: Tap, prefix: string, count: number, url?: string) {
  const emulator = await createSpotifyEmulator({
    autoApprove: true,
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
  })
  t.teardown(() => emulator.close())
  const apps: Built[] = []
  const clients: Redis[] = []
  for (let i = 0; i < count; i++) {
    const client = await newClient(t, url)
    clients.push(client)
    apps.push(await build(t, { sharedEmulator: emulator, plugin: { store: redisStore({ client, prefix }), retry: { limit: 0 } } }))
  }
  return { emulator, apps, clients }
}

/** A client of the user's own wrapping `client` (its scripts run on it), with `overrides` in place of some members. */
function withOverrides (client: Redis, overrides: Record<string, unknown>): Redis {
  return new Proxy(client, { get: (target, key, receiver) => key in overrides ? overrides[key as string] : Reflect.get(target, key, receiver) as unknown })
}

function windowOf (app: Built): number {
  return (app.app.spotify.store.rateLimit as NonNullable<TokenStore['rateLimit']>).until()
}

t.test('one rate-limit window for every instance sharing Redis', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return

  await t.test('after the first 429, no call of any instance reaches Spotify until Retry-After has passed', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const { emulator, apps } = await instances(t, prefix, 3)
    const [a, b, c] = apps as [Built, Built, Built]
    const { jar } = await a.login()
    emulator.control.resetCounters()
    emulator.control.rateLimitApiCalls(1, 1)
    const first = await a.request(jar, { url: '/spotify/me' })
    t.equal(first.statusCode, 429, 'Spotify\'s 429 passed on')
    t.equal(first.headers['retry-after'], '1')
    const until = windowOf(a)
    t.ok(until > Date.now(), 'instance a holds the window')
    // Pub/sub carries it to the others: wait for it, not for a guessed delay.
    await eventually('the window to reach b and c', () => windowOf(b) === until && windowOf(c) === until)
    t.equal(Number(await redis.get(windowKey(prefix))), until, 'kept in Redis for instances that start later')

    const seen = new Set<number>()
    let round = 0
    for (;;) {
      const app = apps[round++ % 3] as Built
      const response = await app.request(jar, { url: '/spotify/me' })
      if (response.statusCode === 200) break
      t.equal(response.statusCode, 429)
      t.equal(response.json().error.code, 'FST_SPOTIFY_RATE_LIMITED')
      seen.add(apps.indexOf(app))
      t.equal(emulator.control.counters.api, 1, 'nothing reached Spotify')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    t.ok(seen.size >= 2, 'several instances held calls back')
    t.ok(Date.now() >= until - 50, 'calls resumed once Retry-After had passed')
    t.equal(emulator.control.counters.api, 2, 'and only then')
  })

  await t.test('an instance that starts during the window knows it', async (t) => {
    const prefix = uniquePrefix(t, redis)
    const { emulator, apps } = await instances(t, prefix, 1)
    const [a] = apps as [Built]
    const { jar } = await a.login()
    emulator.control.rateLimitApiCalls(1, 60)
    t.equal((await a.request(jar, { url: '/spotify/me' })).statusCode, 429)
    const late = await build(t, { sharedEmulator: emulator, plugin: { store: redisStore({ client: await newClient(t), prefix }) } })
    t.equal(windowOf(late), windowOf(a), 'read from Redis at start-up')
    emulator.control.resetCounters()
    const response = await late.request(jar, { url: '/spotify/me' })
    t.equal(response.statusCode, 429)
    t.ok(Number(response.headers['retry-after']) >= 59)
    t.equal(emulator.control.counters.api, 0)
  })

  await t.test('a subscriber that reconnects reads the window it may have missed', async (t) => {
    const server = await privateRedis(t)
    const client = await newClient(t, server.url)
    const prefix = 'private:'
    const store = await redisStore({ client, prefix })({ secrets: [SECRET], clientId: CLIENT_ID })
    t.teardown(() => store.close?.())
    const window = store.rateLimit as NonNullable<TokenStore['rateLimit']>
    const until = Date.now() + 60_000
    // Written without a message (as if it was lost), then the subscriber drops.
    await client.set(windowKey(prefix), String(until))
    await client.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await eventually('the reconnected subscriber to read the window', () => window.until() === until)
    t.pass('learnt on reconnection')
  })

  await t.test('messages that are not ours, or windows beyond a day, are ignored', async (t) => {
    const client = await newClient(t)
    const prefix = uniquePrefix(t, redis)
    const store = await redisStore({ client, prefix })({ secrets: [SECRET], clientId: CLIENT_ID })
    t.teardown(() => store.close?.())
    const window = store.rateLimit as NonNullable<TokenStore['rateLimit']>
    await redis.publish(`${prefix}events`, 'hello')
    await redis.set(windowKey(prefix), String(Date.now() + 3 * 24 * 3600_000))
    await redis.publish(`${prefix}events`, `r ${appName(CLIENT_ID)}`)
    const until = Date.now() + 30_000
    await redis.set(windowKey(prefix), String(until))
    await redis.publish(`${prefix}events`, `r ${appName(CLIENT_ID)}`)
    await eventually('the last message', () => window.until() === until)
    t.pass('only the window within a day counted')
    await window.hold(Date.now() - 1000)
    t.equal(window.until(), until, 'a window already past changes nothing')
  })

  await t.test('the plugin closes the subscriber of a store it built; a store built by hand ends with its client', async (t) => {
    const client = await newClient(t)
    const prefix = uniquePrefix(t, redis)
    const built = await build(t, { plugin: { store: redisStore({ client, prefix }) } })
    const store = built.app.spotify.store
    const stop = new AbortController()
    stop.abort()
    await store.watch?.('x', stop.signal)
    await built.app.close()
    await t.rejects(store.watch?.('x', new AbortController().signal) as Promise<void>, /subscriber is not connected/, 'closed with the plugin')
    t.equal(client.status, 'ready', 'the client given stays open')

    const own = await newClient(t)
    const byHand = await redisStore({ client: own, prefix })({ secrets: [SECRET], clientId: CLIENT_ID })
    await own.quit()
    // A watch refused (rather than resolved by its signal's timeout) says the subscriber ended.
    await eventually('the subscriber to end with its client', async () => await byHand.watch?.('x', AbortSignal.timeout(20)).then(() => false, () => true) as boolean)
    t.pass('ended with its client')
  })

  await t.test('without pub/sub: no shared window and no news', async (t) => {
    const client = await newClient(t)
    const prefix = uniquePrefix(t, redis)
    const off = await redisStore({ client, prefix, pubsub: false })({ secrets: [SECRET], clientId: CLIENT_ID })
    t.equal(off.watch, undefined)
    t.equal(off.rateLimit, undefined)
    // A client that cannot be duplicated (a wrapper of the user's own): the same.
    const wrapper = withOverrides(client, { duplicate: undefined })
    const plain = await redisStore({ client: wrapper, prefix })({ secrets: [SECRET], clientId: CLIENT_ID })
    t.equal(plain.watch, undefined)
    t.throws(() => redisStore({ client, pubsub: 'yes' as unknown as boolean }), /options\.pubsub must be a boolean/)
  })

  await t.test('a subscription that fails fails the store\'s start-up', async (t) => {
    const client = await newClient(t)
    const subscriber = {
      status: 'connecting',
      subscribe: () => Promise.reject(new Error('SUBSCRIBE is disabled')),
      on: () => subscriber,
      disconnected: false,
      disconnect () { this.disconnected = true }
    }
    const wrapper = withOverrides(client, { duplicate: () => subscriber })
    await t.rejects(Promise.resolve(redisStore({ client: wrapper, prefix: uniquePrefix(t, redis) })({ secrets: [SECRET], clientId: CLIENT_ID })),
      /the Redis store cannot subscribe \(SUBSCRIBE is disabled\)/)
    t.ok(subscriber.disconnected, 'and closes the connection it opened')
  })

  await t.test('Redis gone: holding the window fails (this instance still holds it), announcing does not', async (t) => {
    const server = await privateRedis(t)
    const client = await newClient(t, server.url, { retryStrategy: () => null })
    const prefix = 'private:'
    const store = await redisStore({ client, prefix })({ secrets: [SECRET], clientId: CLIENT_ID })
    t.teardown(() => store.close?.())
    const window = store.rateLimit as NonNullable<TokenStore['rateLimit']>
    const token = { userId: 'u', accessToken: 'a', refreshToken: 'r', expiresAt: 2e9, scope: [], obtainedAt: 1, refreshes: 0, authorizedAt: 1, refreshTokenExpiresAt: 2e9 }
    await store.set('s', token)
    const release = await store.lock?.('s', 1000)
    await server.stop()
    await eventually('the client to notice', () => client.status !== 'ready')
    const until = Date.now() + 60_000
    await t.rejects(Promise.resolve(window.hold(until)), /Redis is not connected/)
    t.equal(window.until(), until, 'known here all the same')
    await t.rejects(release?.() as Promise<void>, /Redis is not connected/, 'the release fails as it did')
  })
})
