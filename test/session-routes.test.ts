import t, { type Test } from 'tap'
import pg from 'pg'
import { pgStore, redisStore, type SpotifyAuthOptions } from '../plugin/index.js'
import { build, type Built, CookieJar } from './helpers/build.js'
import { postgresOrSkip } from './helpers/postgres.js'
import { newClient, redisOrSkip, uniquePrefix } from './helpers/redis.js'
import { sessionIdOf } from './helpers/sessions.js'

/*
 * The session routes: who is logged in, the user's devices, signing one or
 * all others out. From the store only; never a session id in an answer;
 * another user's device is not found and ends nothing.
 */

const ORIGIN = 'http://127.0.0.1:5543'
const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'

/** A login as `userId` from a browser that says `userAgent`. */
async function loginAs (built: Built, userId: string, userAgent = CHROME_MAC): Promise<CookieJar> {
  const jar = new CookieJar()
  const headers = { 'user-agent': userAgent }
  const start = await built.request(jar, { url: '/login', headers })
  const back = new URL(built.emulator.control.authorize(new URL(start.headers.location as string).searchParams, userId))
  const callback = await built.request(jar, { url: back.pathname + back.search, headers })
  if (callback.statusCode !== 302) throw new Error(`login failed: ${callback.statusCode}`)
  return jar
}

async function devicesOf (built: Built, jar: CookieJar): Promise<Array<{ id: string, current: boolean, userAgent: string, createdAt: number, lastUsedAt: number }>> {
  const answer = await built.request(jar, { url: '/session/devices' })
  return answer.json().devices
}

async function status (built: Built, jar: CookieJar): Promise<number> {
  return (await built.request(jar, { url: '/session' })).statusCode
}

t.test('GET /session: the user, scopes and times, from the store alone', async (t) => {
  const built = await build(t)
  const jar = await loginAs(built, 'alice')
  const stored = await built.app.spotify.store.get(sessionIdOf(jar))
  built.emulator.control.resetCounters()
  const answer = await built.request(jar, { url: '/session' })
  t.equal(answer.statusCode, 200)
  t.equal(answer.headers['cache-control'], 'no-store')
  t.same(answer.json(), {
    user: { id: 'alice', accountId: stored?.accountId, displayName: 'Alice Andersson' },
    scopes: stored?.scope,
    expiresAt: stored?.expiresAt,
    reauthBy: stored?.refreshTokenExpiresAt
  })
  t.match(stored?.accountId, /^[0-9A-Za-z]{22}$/)
  t.notOk(answer.body.includes(sessionIdOf(jar)), 'no session id')
  t.notOk(answer.body.includes(stored?.accessToken as string), 'no token')

  // Near expiry: still no call to Spotify (the page asks often).
  built.emulator.control.expireAccessTokens()
  await built.app.spotify.store.update(sessionIdOf(jar), stored!, { ...stored!, expiresAt: Math.floor(Date.now() / 1000) - 10 })
  t.equal((await built.request(jar, { url: '/session' })).statusCode, 200)
  t.same(built.emulator.control.counters, { authorization_code: 0, refresh_token: 0, client_credentials: 0, api: 0 }, 'no call to Spotify')
})

t.test('without a session: 401 FST_SPOTIFY_NO_SESSION on every route, nothing ended', async (t) => {
  const built = await build(t)
  const jar = new CookieJar()
  for (const [method, url] of [['GET', '/session'], ['GET', '/session/devices'], ['DELETE', '/session/devices/abc'], ['POST', '/session/devices/end-others']] as const) {
    const answer = await built.request(jar, { method, url })
    t.equal(answer.statusCode, 401, `${method} ${url}`)
    t.equal(answer.json().error.code, 'FST_SPOTIFY_NO_SESSION')
  }
})

t.test('devices: the current user\'s sessions, by handle, never another user\'s', async (t) => {
  const built = await build(t)
  const first = await loginAs(built, 'alice', CHROME_MAC)
  const second = await loginAs(built, 'alice', FIREFOX_LINUX)
  const third = await loginAs(built, 'alice')
  const bob = await loginAs(built, 'bob')
  const listed = await devicesOf(built, first)
  t.equal(listed.length, 3)
  t.same(listed.map((d) => d.current), [true, false, false], 'the current one first')
  t.same(new Set(listed.map((d) => d.userAgent)), new Set(['Chrome on macOS', 'Firefox on Linux']))
  const raw = (await built.request(first, { url: '/session/devices' })).body
  for (const jar of [first, second, third, bob]) t.notOk(raw.includes(sessionIdOf(jar)), 'no session id in the answer')
  for (const device of listed) {
    t.match(device.id, /^[A-Za-z0-9_-]{22}$/)
    t.ok(device.createdAt <= device.lastUsedAt && device.lastUsedAt <= Math.ceil(Date.now() / 1000))
  }
  const bobs = await devicesOf(built, bob)
  t.equal(bobs.length, 1)
  t.notOk(listed.some((d) => d.id === bobs[0]?.id))

  // Bob's handle, from alice: 404, the same as a made-up one, and bob stays.
  const foreign = await built.request(first, { method: 'DELETE', url: `/session/devices/${bobs[0]?.id}` })
  const madeUp = await built.request(first, { method: 'DELETE', url: '/session/devices/AAAAAAAAAAAAAAAAAAAAAA' })
  t.equal(foreign.statusCode, 404)
  t.equal(foreign.json().error.code, 'FST_SPOTIFY_DEVICE_NOT_FOUND')
  t.same(foreign.json(), madeUp.json(), 'the same answer whether it exists or not')
  t.equal(await status(built, bob), 200, 'bob\'s session is untouched')
  t.equal((await devicesOf(built, first)).length, 3, 'and nothing of alice ended')

  // One of alice's own: ended, 204.
  const secondId = (await devicesOf(built, second)).find((d) => d.current)?.id as string
  const ended = await built.request(first, { method: 'DELETE', url: `/session/devices/${secondId}`, headers: { origin: ORIGIN } })
  t.equal(ended.statusCode, 204)
  t.equal(await status(built, second), 401, 'the device is signed out')
  t.equal(await status(built, first), 200)
  t.equal((await devicesOf(built, first)).length, 2)

  // Everywhere else.
  const others = await built.request(first, { method: 'POST', url: '/session/devices/end-others', headers: { origin: ORIGIN, 'content-type': 'application/json' } })
  t.equal(others.statusCode, 200)
  t.same(others.json(), { ended: 1 })
  t.equal(await status(built, third), 401)
  t.equal(await status(built, first), 200, 'this one stays')
  t.equal(await status(built, bob), 200, 'another user\'s stay')
  t.same((await built.request(first, { method: 'POST', url: '/session/devices/end-others' })).json(), { ended: 0 })

  // Its own handle: this session ends, and its cookie is cleared.
  const own = (await devicesOf(built, first))[0]?.id as string
  const self = await built.request(first, { method: 'DELETE', url: `/session/devices/${own}` })
  t.equal(self.statusCode, 204)
  t.match(self.headers['set-cookie'], /spotify_session=;/)
  t.equal(await status(built, first), 401)
})

t.test('unsafe methods from another origin: 403, nothing ended', async (t) => {
  const built = await build(t)
  const first = await loginAs(built, 'alice')
  const second = await loginAs(built, 'alice')
  const handle = (await devicesOf(built, second)).find((d) => d.current)?.id as string
  for (const headers of [{ origin: 'http://127.0.0.1:9999' }, { origin: 'null', 'sec-fetch-site': 'same-site' }] as Array<Record<string, string>>) {
    const one = await built.request(first, { method: 'DELETE', url: `/session/devices/${handle}`, headers })
    const all = await built.request(first, { method: 'POST', url: '/session/devices/end-others', headers })
    t.equal(one.statusCode, 403)
    t.equal(one.json().error.code, 'FST_SPOTIFY_CROSS_SITE')
    t.equal(all.statusCode, 403)
  }
  t.equal(await status(built, second), 200)
  t.equal((await built.request(first, { url: '/session', headers: { origin: 'http://127.0.0.1:9999' } })).statusCode, 200, 'a GET reveals nothing a page elsewhere can read without CORS')
})

t.test('sessionPath: another path, or off', async (t) => {
  const moved = await build(t, { plugin: { sessionPath: '/auth/session' } })
  const jar = await loginAs(moved, 'alice')
  t.equal((await moved.request(jar, { url: '/auth/session' })).statusCode, 200)
  t.equal((await moved.request(jar, { url: '/auth/session/devices' })).statusCode, 200)
  t.equal((await moved.request(jar, { url: '/session' })).statusCode, 404)
  const off = await build(t, { plugin: { sessionPath: false } })
  const offJar = await loginAs(off, 'alice')
  t.equal((await off.request(offJar, { url: '/session' })).statusCode, 404)
  t.equal((await off.request(offJar, { url: '/session/devices' })).statusCode, 404)
  for (const sessionPath of ['/', '/login', '/spotify', 'session', '/session/']) {
    await t.rejects(build(t, { plugin: { sessionPath } }), { code: 'FST_SPOTIFY_INVALID_OPTION', message: /options\.sessionPath/ }, String(sessionPath))
  }
})

/** Two instances over one shared store: a session ended on one is gone on the other. */
async function endedEverywhere (t: Test, store: () => SpotifyAuthOptions['store']): Promise<void> {
  const one = await build(t, { plugin: { store: store() } })
  const two = await build(t, { sharedEmulator: one.emulator, plugin: { store: store() } })
  const here = await loginAs(one, 'alice')
  const there = await loginAs(two, 'alice')
  const elsewhere = await loginAs(two, 'alice')
  t.equal((await devicesOf(one, here)).length, 3, 'one instance lists the other\'s sessions')
  const handle = (await devicesOf(two, there)).find((d) => d.current)?.id as string
  t.equal((await one.request(here, { method: 'DELETE', url: `/session/devices/${handle}` })).statusCode, 204)
  t.equal(await status(two, there), 401, 'ended on one instance: gone on the other')
  t.same((await one.request(here, { method: 'POST', url: '/session/devices/end-others' })).json(), { ended: 1 })
  t.equal(await status(two, elsewhere), 401)
  t.equal(await status(two, here), 200, 'the asking session is live on both')
}

t.test('Redis: ended on one instance, gone on all', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  const prefix = uniquePrefix(t, redis)
  const clients = [await newClient(t), await newClient(t)]
  let next = 0
  await endedEverywhere(t, () => redisStore({ client: clients[next++]!, prefix }))
})

t.test('PostgreSQL: ended on one instance, gone on all', async (t) => {
  const db = await postgresOrSkip(t)
  if (db === undefined) return
  const table = db.table()
  const pools: pg.Pool[] = []
  t.teardown(async () => { for (const pool of pools) await pool.end() })
  await endedEverywhere(t, () => {
    const pool = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 2 })
    pools.push(pool)
    return pgStore({ pool, table })
  })
})

t.test('a session stored before the login kept these fields: nulls and "Unknown browser"; HEAD answers like GET', async (t) => {
  const built = await build(t)
  const jar = await loginAs(built, 'alice')
  const id = sessionIdOf(jar)
  const { accountId, displayName, userAgent, ...older } = (await built.app.spotify.store.get(id))!
  t.ok(accountId !== undefined && displayName !== undefined && userAgent !== undefined)
  await built.app.spotify.store.set(id, older)
  const session = await built.request(jar, { url: '/session' })
  t.same(session.json().user, { id: 'alice', accountId: null, displayName: null })
  t.equal((await devicesOf(built, jar))[0]?.userAgent, 'Unknown browser')
  const head = await built.request(jar, { method: 'HEAD', url: '/session', headers: { origin: 'http://127.0.0.1:9999' } })
  t.equal(head.statusCode, 200, 'HEAD is safe: no origin check')
})
