import type { Redis } from 'ioredis'
import t, { type Test as Tap } from 'tap'
import { errorCodes, memoryStore, redisStore, type RateLimitWindow, type TokenStore } from '../plugin/index.js'
import { createSpotifyEmulator } from '../plugin/emulator/index.js'
import { RateLimitGate } from '../plugin/web-api/rate-limit.js'
import { reasonOf429 } from '../plugin/web-api/quota.js'
import { appName, rateLimitKey } from '../plugin/store/redis/keys.js'
import { build, CLIENT_ID, CLIENT_SECRET, type Built, REDIRECT_URI, SECRET } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'
import { newClient, redisOrSkip, uniquePrefix } from './helpers/redis.js'
import { eventually } from './helpers/eventually.js'

/*
 * Spotify's quota (a Development Mode app's calls over its rolling day) is
 * not its short rate limit: a 429 whose body says QUOTA_EXCEEDED is an
 * error of its own, opens the shared window for hours, and every instance
 * tells it apart. Time moves by a clock the test holds, never by sleeping.
 */

/** Moves `Date.now` (the plugin's clock, and the emulator's) forward for this test only. */
function heldClock (t: Tap): { advance (ms: number): void } {
  const real = Date.now
  let offset = 0
  Date.now = () => real() + offset
  t.teardown(() => { Date.now = real })
  return { advance (ms) { offset += ms } }
}

async function emulatorFor (t: Tap) {
  const emulator = await createSpotifyEmulator({
    autoApprove: true,
    now: () => Date.now(),
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
  })
  t.teardown(() => emulator.close())
  return emulator
}

function codeOf (response: { json (): any }): string {
  return response.json().error.code
}

t.test('a 429 with reason QUOTA_EXCEEDED is FST_SPOTIFY_QUOTA_EXCEEDED in every client until Retry-After has passed', async (t) => {
  const clock = heldClock(t)
  const emulator = await emulatorFor(t)
  const built = await build(t, { sharedEmulator: emulator, plugin: { retry: { limit: 0 } } })
  const { jar } = await built.login()
  emulator.control.setQuota(1, 600)
  emulator.control.resetQuota()
  emulator.control.resetCounters()
  t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 200, 'the quota\'s one call')
  const spent = await built.request(jar, { url: '/spotify/me' })
  t.equal(spent.statusCode, 429)
  t.equal(codeOf(spent), 'FST_SPOTIFY_QUOTA_EXCEEDED', 'Spotify\'s quota 429 becomes the plugin\'s own error at once')
  t.equal(spent.headers['retry-after'], '600')
  t.equal(emulator.control.counters.api, 2)

  clock.advance(300_000)
  const held = await built.request(jar, { url: '/spotify/me' })
  t.equal(codeOf(held), 'FST_SPOTIFY_QUOTA_EXCEEDED', 'the window remembers why it is open')
  t.equal(held.headers['retry-after'], '300', 'the remaining Retry-After')
  await t.rejects(built.app.spotify.app.api.get('browse/categories').json(), { code: errorCodes.QUOTA_EXCEEDED, statusCode: 429, retryAfter: 300 }, 'the app\'s got client too')
  t.equal(emulator.control.counters.api, 2, 'nothing reached Spotify')

  const warnings = built.logs.map((line) => JSON.parse(line)).filter((line) => line.reason === 'QUOTA_EXCEEDED')
  t.equal(warnings.length, 1, 'logged once, as a quota')
  t.match(warnings[0], { level: 40, retryAfterSeconds: 600, msg: /quota for this app is spent/ })

  clock.advance(300_000)
  t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 200, 'after Retry-After, calls go again')
  t.equal(emulator.control.counters.api, 3)
})

t.test('a 429 without the reason stays FST_SPOTIFY_RATE_LIMITED, and is logged as such', async (t) => {
  const built = await build(t, { plugin: { retry: { limit: 0 } } })
  const { jar } = await built.login()
  built.emulator.control.rateLimitApiCalls(1, 30)
  t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 429, 'passed on as it came')
  t.equal(codeOf(await built.request(jar, { url: '/spotify/me' })), 'FST_SPOTIFY_RATE_LIMITED')
  const lines = built.logs.map((line) => JSON.parse(line)).filter((line) => /rate limit \(429\)/.test(line.msg ?? ''))
  t.match(lines, [{ level: 30, retryAfterSeconds: 30 }])
})

t.test('a quota 429 without a readable Retry-After opens no window: it is passed on as it came', async (t) => {
  const apiUrl = await fakeUpstream(t, (upstream) => {
    upstream.get('/v1/spent', async (_request, reply) => reply.code(429).send({ error: { status: 429, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' } }))
  })
  const built = await build(t, { plugin: { apiUrl } })
  const { jar } = await built.login()
  const response = await built.request(jar, { url: '/spotify/spent' })
  t.equal(response.statusCode, 429)
  t.equal(response.json().error.reason, 'QUOTA_EXCEEDED', 'Spotify\'s own answer')
  t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 200, 'nothing held')
})

t.test('only a small JSON body that says QUOTA_EXCEEDED is a quota', async (t) => {
  const of = (body: string) => reasonOf429({ status: 429, headers: {}, body: Buffer.from(body) })
  t.equal(of('{"error":{"status":429,"reason":"QUOTA_EXCEEDED"}}'), 'quota')
  t.equal(of('{"error":{"status":429,"message":"API rate limit exceeded"}}'), undefined)
  t.equal(of('null'), undefined)
  t.equal(of('<html>busy</html>'), undefined)
  t.equal(of(''), undefined)
  t.equal(of(JSON.stringify({ error: { reason: 'QUOTA_EXCEEDED' }, padding: 'x'.repeat(5000) })), undefined, 'not an error body of the Web API')
})

t.test('the window keeps its reason: a later, longer one replaces it; a shorter one does not', async (t) => {
  const store = memoryStore()
  const window = store.rateLimit as RateLimitWindow
  const logs = { info () {}, warn () {} } as never
  const gate = new RateLimitGate(window, logs)
  await gate.observe('60', 'quota')
  t.equal(gate.blocked()?.code, 'FST_SPOTIFY_QUOTA_EXCEEDED')
  t.equal(window.reason?.(), 'quota', 'held in the store with the window')
  await gate.observe('10')
  t.equal(gate.blocked()?.code, 'FST_SPOTIFY_QUOTA_EXCEEDED', 'a shorter rate limit does not hide the quota')
  await gate.observe('120')
  t.equal(gate.blocked()?.code, 'FST_SPOTIFY_RATE_LIMITED', 'a longer one does')
  t.equal(window.reason?.(), undefined)

  // Another instance's window, from a store that keeps no reason: a rate limit.
  let until = Date.now() + 60_000
  const plain = new RateLimitGate({ hold () {}, until: () => until }, logs)
  t.equal(plain.blocked()?.code, 'FST_SPOTIFY_RATE_LIMITED')
  const shared = new RateLimitGate({ hold () {}, until: () => until, reason: () => 'quota' }, logs)
  t.equal(shared.blocked()?.code, 'FST_SPOTIFY_QUOTA_EXCEEDED', 'one that keeps it: a quota')
  until = 0
  t.equal(shared.blocked(), undefined)
})

t.test('on three instances sharing Redis, the quota 429 holds every call of every instance until Retry-After', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  const clock = heldClock(t)
  const emulator = await emulatorFor(t)
  const prefix = uniquePrefix(t, redis)
  const apps: Built[] = []
  const clients: Redis[] = []
  for (let i = 0; i < 3; i++) {
    const client = await newClient(t)
    clients.push(client)
    apps.push(await build(t, { sharedEmulator: emulator, plugin: { store: redisStore({ client, prefix }), retry: { limit: 0 } } }))
  }
  const [a, b, c] = apps as [Built, Built, Built]
  const windowOf = (app: Built) => app.app.spotify.store.rateLimit as NonNullable<TokenStore['rateLimit']>
  const { jar } = await a.login()
  emulator.control.setQuota(1, 3600)
  emulator.control.resetQuota()
  emulator.control.resetCounters()
  t.equal((await b.request(jar, { url: '/spotify/me' })).statusCode, 200)
  const spent = await a.request(jar, { url: '/spotify/me' })
  t.equal(codeOf(spent), 'FST_SPOTIFY_QUOTA_EXCEEDED')
  const until = windowOf(a).until()
  await eventually('the window, with its reason, to reach b and c', () =>
    [b, c].every((app) => windowOf(app).until() === until && windowOf(app).reason?.() === 'quota'))
  t.equal(await redis.get(rateLimitKey(prefix, appName(CLIENT_ID))), `${until} quota`, 'kept in Redis with its reason, for instances that start later')

  const late = await build(t, { sharedEmulator: emulator, plugin: { store: redisStore({ client: await newClient(t), prefix }) } })
  t.equal(windowOf(late).reason?.(), 'quota', 'an instance that starts during the window reads the reason too')

  for (const step of [0, 1_200_000, 1_200_000]) {
    clock.advance(step)
    for (const app of [a, b, c, late]) {
      const response = await app.request(jar, { url: '/spotify/me' })
      t.equal(response.statusCode, 429)
      t.equal(codeOf(response), 'FST_SPOTIFY_QUOTA_EXCEEDED', 'every instance answers the quota')
      t.ok(Number(response.headers['retry-after']) <= 3600 - step / 1000)
    }
  }
  t.equal(emulator.control.counters.api, 2, 'nothing reached the emulator')
  clock.advance(1_200_000)
  // The emulator's quota would allow one call again; this is about the plugin's window.
  emulator.control.setQuota(100, 3600)
  for (const app of [a, b, c]) t.equal((await app.request(jar, { url: '/spotify/me' })).statusCode, 200, 'Retry-After has passed')
  t.equal(emulator.control.counters.api, 5)
  t.notOk(clients.some((client) => client.status !== 'ready'))
})

t.test('a rate-limit window in Redis keeps its plain value', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  const client = await newClient(t)
  const prefix = uniquePrefix(t, redis)
  const store = await redisStore({ client, prefix })({ secrets: [SECRET], clientId: CLIENT_ID })
  t.teardown(() => store.close?.())
  const window = store.rateLimit as RateLimitWindow
  const key = rateLimitKey(prefix, appName(CLIENT_ID))
  const until = Date.now() + 30_000
  await window.hold(until)
  t.equal(await redis.get(key), String(until))
  t.equal(window.reason?.(), undefined)
  await window.hold(until + 1000, 'quota')
  t.equal(await redis.get(key), `${until + 1000} quota`)
  await window.hold(until + 500)
  t.equal(await redis.get(key), `${until + 1000} quota`, 'never shortened, reason kept')
  await redis.set(key, `${until + 2000} unknown`)
  await redis.publish(`${prefix}events`, `r ${appName(CLIENT_ID)}`)
  await eventually('the message', () => window.until() === until + 2000)
  t.equal(window.reason?.(), undefined, 'a reason it does not know is no reason')
})
