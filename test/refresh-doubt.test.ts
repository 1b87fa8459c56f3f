import t, { type Test } from 'tap'
import { memoryStore, type SpotifyToken, type TokenStore } from '../plugin/index.js'
import { build, type Built, type CookieJar } from './helpers/build.js'
import { expireStored, sessionIdOf } from './helpers/sessions.js'

/*
 * Every refresh marks the record (`refreshStartedAt`) before it calls
 * Spotify. Spotify's invalid_grant for a version that another attempt
 * marked less than 10 minutes ago is doubt, not revocation: that attempt
 * may hold the rotated refresh token unsaved. Without a recent mark, a
 * revocation ends the session at once, as it always did.
 */

const MINUTE = 60

interface Session extends Built {
  readonly jar: CookieJar
  readonly sessionId: string
  readonly store: TokenStore
  /** The stored record. */
  stored (): Promise<SpotifyToken | undefined>
  /** Writes `fields` on the stored record, at its version. */
  mark (fields: Partial<SpotifyToken>): Promise<void>
}

/** A logged-in session with rotating refresh tokens, its token expired. */
async function expiredSession (t: Test, store: TokenStore = memoryStore()): Promise<Session> {
  const built = await build(t, { plugin: { store } })
  built.emulator.control.setRotateRefreshTokens(true)
  const { jar } = await built.login()
  const sessionId = sessionIdOf(jar)
  await expireStored(store, sessionId)
  built.emulator.control.resetCounters()
  const stored = (): Promise<SpotifyToken | undefined> => store.get(sessionId)
  return {
    ...built,
    jar,
    sessionId,
    store,
    stored,
    async mark (fields) {
      const current = await stored() as SpotifyToken
      if (!await store.update(sessionId, current, { ...current, ...fields })) throw new Error('mark lost a race')
    }
  }
}

function minutesAgo (minutes: number): number {
  return Math.floor(Date.now() / 1000) - minutes * MINUTE
}

t.test('a revocation with no mark still ends the session at once', async (t) => {
  const session = await expiredSession(t)
  session.emulator.control.revokeAll()
  const revoked = await session.request(session.jar, { url: '/spotify/me' })
  t.equal(revoked.statusCode, 401)
  t.equal(revoked.json().error.code, 'FST_SPOTIFY_SESSION_REVOKED')
  t.equal(await session.stored(), undefined, 'deleted')
})

t.test('a mark older than 10 minutes is no doubt: a revocation ends the session', async (t) => {
  const session = await expiredSession(t)
  await session.mark({ refreshStartedAt: minutesAgo(10) - 1 })
  session.emulator.control.revokeAll()
  const revoked = await session.request(session.jar, { url: '/spotify/me' })
  t.equal(revoked.statusCode, 401)
  t.equal(revoked.json().error.code, 'FST_SPOTIFY_SESSION_REVOKED')
  t.equal(await session.stored(), undefined, 'deleted')
})

t.test('a mark younger than 10 minutes: the refusal keeps the session, once noted no more token calls, and it ends when the doubt does', async (t) => {
  const session = await expiredSession(t)
  const startedAt = minutesAgo(9)
  await session.mark({ refreshStartedAt: startedAt })
  const before = await session.stored() as SpotifyToken
  session.emulator.control.revokeAll()
  const doubted = await session.request(session.jar, { url: '/spotify/me' })
  t.equal(doubted.statusCode, 503)
  t.equal(doubted.json().error.code, 'FST_SPOTIFY_REFRESH_BUSY')
  t.ok(session.jar.cookies.has('spotify_session'), 'the cookie is kept')
  t.same(await session.stored(), { ...before, refreshRefused: true }, 'the record is kept, its mark unchanged, the refusal noted')
  t.equal((await session.request(session.jar, { url: '/spotify/me' })).statusCode, 503)
  t.equal(session.emulator.control.counters.refresh_token, 1, 'one token call in all')
  // Ten minutes on: the doubt is over.
  await session.mark({ refreshStartedAt: minutesAgo(10) - 1 })
  const revoked = await session.request(session.jar, { url: '/spotify/me' })
  t.equal(revoked.statusCode, 401)
  t.equal(revoked.json().error.code, 'FST_SPOTIFY_SESSION_REVOKED')
  t.equal(session.emulator.control.counters.refresh_token, 2, 'Spotify is asked once more')
  t.equal(await session.stored(), undefined, 'deleted')
})

t.test('the mark is on the record while Spotify is asked, and gone from the refreshed one', async (t) => {
  await t.test('no mark before: marked since now', async (t) => {
    const session = await expiredSession(t)
    const hold = session.emulator.control.holdTokenCalls()
    const refreshing = session.request(session.jar, { url: '/spotify/me' })
    await hold.arrived
    const during = await session.stored() as SpotifyToken
    t.ok(during.refreshStartedAt !== undefined && during.refreshStartedAt >= minutesAgo(1), 'marked')
    hold.release()
    t.equal((await refreshing).statusCode, 200)
    const after = await session.stored() as SpotifyToken
    t.equal(after.refreshes, during.refreshes + 1)
    t.equal(after.refreshStartedAt, undefined, 'the refreshed record carries no mark')
  })

  await t.test('a recent mark is kept: later attempts do not prolong the doubt', async (t) => {
    const session = await expiredSession(t)
    const startedAt = minutesAgo(2)
    await session.mark({ refreshStartedAt: startedAt })
    const hold = session.emulator.control.holdTokenCalls()
    const refreshing = session.request(session.jar, { url: '/spotify/me' })
    await hold.arrived
    t.equal((await session.stored())?.refreshStartedAt, startedAt)
    hold.release()
    t.equal((await refreshing).statusCode, 200)
    t.equal((await session.stored())?.refreshStartedAt, undefined)
  })

  await t.test('an old mark, and its refusal, give way to a new mark', async (t) => {
    const session = await expiredSession(t)
    await session.mark({ refreshStartedAt: minutesAgo(60), refreshRefused: true })
    const hold = session.emulator.control.holdTokenCalls()
    const refreshing = session.request(session.jar, { url: '/spotify/me' })
    await hold.arrived
    const during = await session.stored() as SpotifyToken
    t.ok(during.refreshStartedAt !== undefined && during.refreshStartedAt >= minutesAgo(1), 'marked since now')
    t.equal(during.refreshRefused, undefined, 'the old refusal is gone')
    hold.release()
    t.equal((await refreshing).statusCode, 200)
  })
})

t.test('a refusal of the client takes the attempt\'s mark back: a revocation afterwards still ends the session at once', async (t) => {
  const session = await expiredSession(t)
  const before = await session.stored() as SpotifyToken
  // A second app instance with a wrong secret (a bad deploy), on the same store.
  const broken = await build(t, { sharedEmulator: session.emulator, plugin: { clientSecret: 'rotated-away', store: session.store } })
  const refused = await broken.app.inject({ url: '/spotify/me', headers: { cookie: session.jar.header } })
  t.equal(refused.statusCode, 502)
  t.same(await session.stored(), before, 'the record is as it was, without a mark')
  session.emulator.control.revokeAll()
  t.equal((await session.request(session.jar, { url: '/spotify/me' })).statusCode, 401)
})

t.test('in doubt, a sibling\'s token that landed meanwhile is used', async (t) => {
  // Two instances on one store without a lock: both refresh. A's refresh
  // reaches Spotify after B's rotated the refresh token, and the record
  // carried a recent mark before either began.
  const store = memoryStore()
  const a = await expiredSession(t, store)
  const b = await build(t, { sharedEmulator: a.emulator, plugin: { store } })
  await a.mark({ refreshStartedAt: minutesAgo(1) })
  const before = await a.stored() as SpotifyToken
  const hold = a.emulator.control.holdTokenCalls()
  const viaA = a.request(a.jar, { url: '/spotify/me' })
  await hold.arrived
  t.equal((await b.app.inject({ url: '/spotify/me', headers: { cookie: a.jar.header } })).statusCode, 200, 'B refreshed and rotated')
  hold.release()
  t.equal((await viaA).statusCode, 200, 'A, refused, uses B\'s token instead of waiting')
  t.equal(a.emulator.control.counters.refresh_token, 2)
  t.equal((await a.stored())?.refreshes, before.refreshes + 1)
})

t.test('a logout that lands just before the mark: no call to Spotify, the session is over', async (t) => {
  const inner = memoryStore()
  const store: TokenStore = {
    get: (id) => inner.get(id),
    set: (id, token) => inner.set(id, token),
    async update (id, previous, next) {
      // The mark is the write at the same version: a logout elsewhere wins the race to it.
      if (next.refreshes === previous.refreshes) await inner.delete(id)
      return await inner.update(id, previous, next)
    },
    delete: (id, expected) => inner.delete(id, expected)
  }
  const session = await expiredSession(t, store)
  const response = await session.request(session.jar, { url: '/spotify/me' })
  t.equal(response.statusCode, 401)
  t.equal(response.json().error.code, 'FST_SPOTIFY_NO_SESSION')
  t.equal(session.emulator.control.counters.refresh_token, 0)
})
