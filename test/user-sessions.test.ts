import t from 'tap'
import { memoryStore, redisStore, type StoreFactory, type TokenStore } from '../plugin/index.js'
import { build, type Built, CookieJar } from './helpers/build.js'
import { newClient, redisOrSkip, uniquePrefix } from './helpers/redis.js'
import { sessionIdOf } from './helpers/sessions.js'

async function status (built: Built, jar: CookieJar): Promise<number> {
  return (await built.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })).statusCode
}

t.test('sessionsOf lists a user\'s sessions; endSessionsOf logs them out everywhere', async (t) => {
  const built = await build(t)
  const jars = [(await built.login()).jar, (await built.login(new CookieJar())).jar, (await built.login(new CookieJar())).jar]
  t.same(await built.app.spotify.sessionsOf('alice'), jars.map(sessionIdOf), 'oldest first')
  t.same(await built.app.spotify.sessionsOf('bob'), [])
  t.equal(await built.app.spotify.endSessionsOf('alice'), 3)
  for (const jar of jars) t.equal(await status(built, jar), 401)
  t.same(await built.app.spotify.sessionsOf('alice'), [])
  t.equal(await built.app.spotify.endSessionsOf('alice'), 0)
})

t.test('maxSessionsPerUser: a login beyond it ends the user\'s least recently used session', async (t) => {
  const built = await build(t, { plugin: { maxSessionsPerUser: 2 } })
  const first = (await built.login(new CookieJar())).jar
  const second = (await built.login(new CookieJar())).jar
  t.equal(await status(built, first), 200, 'first is used again: now the most recent')
  const third = (await built.login(new CookieJar())).jar
  t.equal(await status(built, second), 401, 'second was the least recently used')
  t.equal(await status(built, first), 200)
  t.equal(await status(built, third), 200)
  t.same(await built.app.spotify.sessionsOf('alice'), [sessionIdOf(first), sessionIdOf(third)])
})

/**
 * Session writes (a login's) that wait at a gate: logins talk to Spotify
 * one at a time, each under the usual timeout with no other login beside
 * it, and park just before they store their session; opened, the gate lets
 * every parked login store its session and cap the user's sessions at once.
 * What races is the cap, not 50 token exchanges on a busy machine.
 */
function loginGate (): { wrap: (store: TokenStore) => TokenStore, nextParked: () => Promise<void>, open: () => void } {
  let parked: () => void = () => {}
  let open!: () => void
  const gate = new Promise<void>((resolve) => { open = resolve })
  return {
    wrap: (store) => ({
      ...store,
      async set (sessionId, token) {
        parked()
        await gate
        await store.set(sessionId, token)
      }
    }),
    nextParked: () => new Promise((resolve) => { parked = resolve }),
    open
  }
}

/** `count` logins through `instances` in turn, parked at `gate` one by one, then let go together. */
async function loginsAtOnce (gate: ReturnType<typeof loginGate>, instances: Built[], count: number): Promise<Array<Awaited<ReturnType<Built['login']>>>> {
  const pending: Array<ReturnType<Built['login']>> = []
  for (let i = 0; i < count; i++) {
    const parked = gate.nextParked()
    const login = (instances[i % instances.length] as Built).login(new CookieJar())
    pending.push(login)
    // A login that fails before the gate ends the wait too (and the test, after).
    await Promise.race([parked, login])
  }
  gate.open()
  return await Promise.all(pending)
}

/** Each jar's status on its instance, one request at a time (only the 10 live ones reach Spotify). */
async function statuses (instances: Built[], jars: CookieJar[]): Promise<number[]> {
  const found: number[] = []
  for (const [i, jar] of jars.entries()) found.push(await status(instances[i % instances.length] as Built, jar))
  return found
}

t.test('the cap holds under 50 concurrent logins of one user', async (t) => {
  const gate = loginGate()
  const built = await build(t, { plugin: { store: gate.wrap(memoryStore()) } })
  const logins = await loginsAtOnce(gate, [built], 50)
  t.ok(logins.every((l) => l.callback.statusCode === 302), 'every login completes')
  const live = await built.app.spotify.sessionsOf('alice')
  t.equal(live.length, 10, 'the default limit: 10')
  const alive = await statuses([built], logins.map((l) => l.jar))
  t.equal(alive.filter((s) => s === 200).length, 10, 'and exactly those 10 cookies still work')
})

t.test('two logins whose caps read the same list end no more sessions than the limit asks', async (t) => {
  // Logins A, B and C of one user, limit 2. A's cap reads the user's
  // sessions only once C has written its own, so that A and C both read
  // [A, B, C]: one session too many, and it is A's own, the oldest. Each cap
  // ends the oldest beyond the limit but never its own login's: A ends
  // none, C ends A's. (Sparing its own and ending the next one instead, A
  // would end B while C ends A: one session left of two.)
  const store = memoryStore()
  const list = store.sessionsOf?.bind(store) as NonNullable<TokenStore['sessionsOf']>
  const held: Array<() => void> = []
  let calls = 0
  let arrived: () => void = () => {}
  const firstArrived = new Promise<void>((resolve) => { arrived = resolve })
  store.sessionsOf = async (userId) => {
    calls++
    if (calls === 1 || calls === 3) {
      if (calls === 1) arrived()
      await new Promise<void>((resolve) => {
        held.push(resolve)
        if (held.length === 2) for (const release of held) release()
      })
    }
    return await list(userId)
  }
  const built = await build(t, { plugin: { store, maxSessionsPerUser: 2 } })
  const a = built.login(new CookieJar())
  await firstArrived
  const b = await built.login(new CookieJar())
  const c = await Promise.all([a, built.login(new CookieJar())]).then(([, c]) => c)
  const live = await built.app.spotify.sessionsOf('alice')
  t.same(live, [sessionIdOf(b.jar), sessionIdOf(c.jar)], 'the limit, and the two newest')
})

t.test('maxSessionsPerUser: false lets sessions pile up; bad values fail register', async (t) => {
  const built = await build(t, { plugin: { maxSessionsPerUser: false } })
  for (let i = 0; i < 12; i++) await built.login(new CookieJar())
  t.equal((await built.app.spotify.sessionsOf('alice')).length, 12)
  await t.rejects(build(t, { plugin: { maxSessionsPerUser: 0 } }), { code: 'FST_SPOTIFY_INVALID_OPTION' })
})

t.test('a store without a per-user index: logins work, sessionsOf says why it cannot', async (t) => {
  const inner = new Map<string, unknown>()
  const plain: TokenStore = {
    async get (id) { return inner.get(id) as never },
    async set (id, token) { inner.set(id, token) },
    async update (id, _previous, next) { inner.set(id, next); return true },
    async delete (id) { inner.delete(id) }
  }
  const built = await build(t, { plugin: { store: plain } })
  const { jar } = await built.login()
  t.equal(await status(built, jar), 200)
  await t.rejects(built.app.spotify.sessionsOf('alice'), { code: 'FST_SPOTIFY_STORE_UNSUPPORTED' })
  await t.rejects(built.app.spotify.endSessionsOf('alice'), { code: 'FST_SPOTIFY_STORE_UNSUPPORTED' })
})

t.test('on Redis, across three instances', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  const prefix = uniquePrefix(t, redis)
  const gate = loginGate()
  const store = async (): Promise<StoreFactory> => {
    const factory = redisStore({ client: await newClient(t), prefix })
    return async (context) => gate.wrap(await factory(context))
  }
  const first = await build(t, { plugin: { store: await store() } })
  const instances = [first]
  for (let i = 0; i < 2; i++) {
    instances.push(await build(t, { sharedEmulator: first.emulator, plugin: { store: await store() } }))
  }
  // 20, not 50: released together, every login's cap ends the sessions
  // beyond the limit in the list it read, so the store's work grows with
  // the square of the logins (50 made some 4 000 Redis round trips at once,
  // past the store's command timeout on a busy machine). 20 is still ten
  // too many, all at the same moment.
  const logins = await loginsAtOnce(gate, instances, 20)
  t.ok(logins.every((l) => l.callback.statusCode === 302), 'every login completes')
  const live = await (instances[1] as Built).app.spotify.sessionsOf('alice')
  t.equal(live.length, 10, '20 logins at once on three instances: the limit holds')
  const jars = logins.map((l) => l.jar)
  const alive = await statuses(instances, jars)
  t.equal(alive.filter((s) => s === 200).length, 10)
  t.equal(await (instances[2] as Built).app.spotify.endSessionsOf('alice'), 10, 'logged out everywhere from another instance')
  const after = await statuses(instances, jars)
  t.ok(after.every((s) => s === 401))
  t.same(await redis.keys(`${prefix}*`), [], 'nothing left behind: records and index')
})
