import t from 'tap'
import { memoryStore, type SpotifyToken, type TokenStore } from '../plugin/index.js'
import { build, type Built } from './helpers/build.js'
import { eventually } from './helpers/eventually.js'
import { expireStored, sessionIdOf } from './helpers/sessions.js'

/**
 * The memory store behind a switchboard for the writes of refreshed tokens
 * (updates to a new version): `failUpdates` makes the next ones fail before
 * writing, `loseAnswers` makes them write and then fail (the answer lost on
 * the way back), `beforeUpdate` runs before each (a sibling's write, say),
 * `slowFailures` makes failing ones take that many ms, `updates` counts
 * them. `failMarks` makes the next marks fail (the write at the same
 * version that a refresh makes before calling Spotify). `settledNow` is
 * what `settled()` says.
 */
function switchboard (): TokenStore & { failUpdates: number, failMarks: number, slowFailures: number, loseAnswers: number, settledNow: boolean, updates: number, inner: TokenStore, beforeUpdate: (() => Promise<void>) | undefined } {
  const inner = memoryStore()
  const store = {
    inner,
    beforeUpdate: undefined as (() => Promise<void>) | undefined,
    failUpdates: 0,
    failMarks: 0,
    slowFailures: 0,
    loseAnswers: 0,
    settledNow: true,
    updates: 0,
    get: (id: string) => inner.get(id),
    set: (id: string, token: SpotifyToken) => inner.set(id, token),
    async update (id: string, previous: SpotifyToken, next: SpotifyToken) {
      if (next.refreshes === previous.refreshes) {
        if (store.failMarks > 0) {
          store.failMarks--
          throw new Error('connection reset')
        }
        return await inner.update(id, previous, next)
      }
      store.updates++
      await store.beforeUpdate?.()
      if (store.failUpdates > 0) {
        store.failUpdates--
        if (store.slowFailures > 0) await new Promise((resolve) => setTimeout(resolve, store.slowFailures))
        throw new Error('connection reset')
      }
      const written = await inner.update(id, previous, next)
      if (store.loseAnswers > 0) {
        store.loseAnswers--
        throw new Error('connection reset after the write')
      }
      return written
    },
    delete: (id: string, expected?: SpotifyToken) => inner.delete(id, expected),
    settled () { return store.settledNow }
  }
  return store
}

/** A logged-in session with rotating refresh tokens, its stored token expired. */
async function rotating (t: Parameters<typeof build>[0], store: ReturnType<typeof switchboard>, onRefresh?: () => void) {
  const built = await build(t, { plugin: { store, ...(onRefresh === undefined ? {} : { onRefresh }) } })
  built.emulator.control.setRotateRefreshTokens(true)
  const { jar } = await built.login()
  const sessionId = sessionIdOf(jar)
  await expireStored(store, sessionId)
  const before = await store.get(sessionId) as SpotifyToken
  built.emulator.control.resetCounters()
  store.updates = 0
  return { ...built, jar, sessionId, before }
}

function secretsIn (built: Built, token: SpotifyToken): string[] {
  return built.logs.filter((line) => line.includes(token.refreshToken) || line.includes(token.accessToken))
}

t.test('a write that fails a few times is tried again: the request succeeds, the rotated token is stored', async (t) => {
  const store = switchboard()
  const built = await rotating(t, store)
  store.failUpdates = 2
  t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 200)
  t.equal(built.emulator.control.counters.refresh_token, 1, 'one refresh')
  const stored = await store.get(built.sessionId) as SpotifyToken
  t.equal(stored.refreshes, built.before.refreshes + 1)
  t.not(stored.refreshToken, built.before.refreshToken, 'the rotated refresh token is the stored one')
  await expireStored(store, built.sessionId)
  t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 200, 'and Spotify takes it at the next refresh')
})

t.test('a refresh whose mark cannot be written answers 503 and makes no call to Spotify', async (t) => {
  const store = switchboard()
  const built = await rotating(t, store)
  store.failMarks = 1
  const failed = await built.request(built.jar, { url: '/spotify/me' })
  t.equal(failed.statusCode, 503)
  t.equal(failed.json().error.code, 'FST_SPOTIFY_STORE_UNAVAILABLE')
  t.equal(built.emulator.control.counters.refresh_token, 0, 'Spotify never rotates a token whose attempt the store does not know of')
  t.same(await store.get(built.sessionId), built.before, 'the record is untouched')
  t.ok(built.jar.cookies.has('spotify_session'), 'the session is kept')
  t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 200, 'and refreshed on the next request')
  t.equal(built.emulator.control.counters.refresh_token, 1)
})

t.test('slow failures: no new try starts past the time budget (3 s)', async (t) => {
  const store = switchboard()
  const built = await rotating(t, store)
  store.failUpdates = 1000
  store.slowFailures = 1600
  const started = Date.now()
  t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 503)
  t.equal(store.updates, 2, 'a second try at about 1.9 s; a third would start past 3 s')
  t.ok(Date.now() - started < 5000)
})

t.test('a write whose answer is lost is not written twice: the record already holds the new token', async (t) => {
  const store = switchboard()
  let notified = 0
  const built = await rotating(t, store, () => { notified++ })
  store.loseAnswers = 1
  t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 200)
  t.equal((await store.get(built.sessionId))?.refreshes, built.before.refreshes + 1)
  t.equal(built.emulator.control.counters.refresh_token, 1)
  t.equal(notified, 1, 'onRefresh runs once')
})

t.test('a store that keeps failing: 503, the rotated token is kept in memory and written on the next request', async (t) => {
  const store = switchboard()
  const built = await rotating(t, store)
  store.failUpdates = 1000
  const failed = await built.request(built.jar, { url: '/spotify/me' })
  t.equal(failed.statusCode, 503)
  t.equal(failed.json().error.code, 'FST_SPOTIFY_STORE_UNAVAILABLE')
  t.ok(store.updates >= 2 && store.updates <= 4, `tried again, at most four times (${store.updates})`)
  t.equal((await store.get(built.sessionId))?.refreshes, built.before.refreshes, 'the store still has the old token')
  t.ok(built.jar.cookies.has('spotify_session'), 'the session is kept')
  const logged = built.logs.find((line) => line.includes('a refreshed token could not be stored'))
  t.ok(logged, 'logged')
  t.match(logged, /connection reset/)
  store.failUpdates = 0
  const ok = await built.request(built.jar, { url: '/spotify/me' })
  t.equal(ok.statusCode, 200, 'service resumes with the held token')
  t.equal(built.emulator.control.counters.refresh_token, 1, 'no second refresh: the old refresh token is dead anyway')
  const stored = await store.get(built.sessionId) as SpotifyToken
  t.equal(stored.refreshes, built.before.refreshes + 1)
  t.same(secretsIn(built, stored), [], 'no token in the logs')
  await expireStored(store, built.sessionId)
  t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 200, 'the rotated refresh token works')
})

t.test('a held token is written in the background when no request comes', async (t) => {
  const store = switchboard()
  const built = await rotating(t, store)
  store.failUpdates = 1000
  t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 503)
  store.failUpdates = 0
  t.ok(await eventually('the background write', async () => (await store.get(built.sessionId))?.refreshes === built.before.refreshes + 1, { within: 20_000, every: 20 }), 'written without a request')
})

t.test('a held token is dropped once the store has moved on (a logout meanwhile)', async (t) => {
  const store = switchboard()
  const built = await rotating(t, store)
  store.failUpdates = 4
  t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 503)
  await store.delete(built.sessionId)
  const after = await built.request(built.jar, { url: '/spotify/me' })
  t.equal(after.statusCode, 401, 'the logout is not undone')
  t.equal(await store.get(built.sessionId), undefined)
})

t.test('closing the app tries the held tokens one last time', async (t) => {
  await t.test('written when the store is back', async (t) => {
    const store = switchboard()
    const built = await rotating(t, store)
    store.failUpdates = 4
    t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 503)
    await built.app.close()
    t.equal((await store.get(built.sessionId))?.refreshes, built.before.refreshes + 1)
  })
  await t.test('logged as lost when it is not', async (t) => {
    const store = switchboard()
    const built = await rotating(t, store)
    store.failUpdates = 1000
    t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 503)
    await built.app.close()
    t.ok(built.logs.some((line) => line.includes('lost at close') && line.includes('"sessions":1')))
  })
})

t.test('invalid_grant while the store is not settled: 503 and the session is kept', async (t) => {
  const store = switchboard()
  const built = await rotating(t, store)
  built.emulator.control.revokeAll()
  store.settledNow = false
  const held = await built.request(built.jar, { url: '/spotify/me' })
  t.equal(held.statusCode, 503)
  t.ok(await store.get(built.sessionId), 'not deleted')
  store.settledNow = true
  const ended = await built.request(built.jar, { url: '/spotify/me' })
  t.equal(ended.statusCode, 401)
  t.equal(ended.json().error.code, 'FST_SPOTIFY_SESSION_REVOKED')
  t.equal(await store.get(built.sessionId), undefined, 'deleted once the store is settled')
})

t.test('a store rolled back by a failover gets the held token written over its older version', async (t) => {
  const store = switchboard()
  const built = await rotating(t, store)
  store.failUpdates = 1000
  t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 503)
  // The failover's promoted replica had a version older than the one refreshed.
  const older = { ...built.before, refreshes: built.before.refreshes - 1 }
  await store.inner.set(built.sessionId, older)
  store.failUpdates = 0
  t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 200)
  const stored = await store.get(built.sessionId) as SpotifyToken
  t.equal(stored.refreshes, built.before.refreshes + 1, 'the held token is stored')
  t.not(stored.refreshToken, built.before.refreshToken)
  t.equal(built.emulator.control.counters.refresh_token, 1, 'no refresh with the dead refresh token')
})

t.test('writing over a rolled-back store loses to a sibling that writes meanwhile', async (t) => {
  const store = switchboard()
  const built = await rotating(t, store)
  store.failUpdates = 1000
  t.equal((await built.request(built.jar, { url: '/spotify/me' })).statusCode, 503)
  const older = { ...built.before, refreshes: built.before.refreshes - 1 }
  await store.inner.set(built.sessionId, older)
  store.failUpdates = 0
  const sibling = { ...built.before, accessToken: 'a-sibling-token', expiresAt: Math.floor(Date.now() / 1000) + 3600, refreshes: built.before.refreshes + 7 }
  let calls = 0
  store.beforeUpdate = async () => {
    // The second update is the one over the older version: a sibling wins the race to it.
    if (++calls === 2) await store.inner.set(built.sessionId, sibling)
  }
  const session = built.app.spotify.session(built.sessionId)
  t.equal((await session.getToken())?.accessToken, 'a-sibling-token', 'the sibling\'s token is used')
  t.equal((await store.get(built.sessionId))?.refreshes, sibling.refreshes, 'and kept')
})
