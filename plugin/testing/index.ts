/**
 * The behaviour every token store must have, as a test suite a store's
 * author runs against it: `fastify-spotify-auth/testing`. It asserts with
 * `node:assert`, so it runs under any runner whose test object has
 * `test(name, fn)`: tap's `t`, or node:test's test context.
 *
 * @module fastify-spotify-auth/testing
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { SpotifyToken, TokenStore } from '../store/types.js'

/** The part of a test runner the suite uses: tap's `t` and node:test's context both fit. */
export interface ContractRunner {
  /** Runs `fn` as a named subtest; the suite awaits what it returns. */
  test (name: string, fn: () => Promise<void>): unknown
}

/** What the store under test offers beyond the required methods. */
export interface ContractOptions {
  /**
   * The store offers `lock`: test that it is taken, refused while held,
   * released only by its holder, and expires by itself. Default false.
   */
  lock?: boolean
  /**
   * The `ttlMs` the lock tests ask for. A store may hold its lock longer (the
   * Redis store adds its own command time), so keep it short. Default 100.
   */
  lockTtl?: number
  /** How long the suite waits, at most, for a lock to expire by itself, in ms. Default 10 000. */
  lockExpiryWait?: number
  /**
   * A store over the same data for the two tests where a lock expires by
   * itself. A store that adds its own operation timeout to every lease (as
   * the shipped ones do) can be built here with a short timeout, so that
   * those tests wait less, while every other case runs under the store's
   * usual timeouts (a short timeout on every case fails them on a busy
   * machine). Default: `create`.
   */
  lockExpiry?: () => TokenStore | Promise<TokenStore>
  /**
   * The store offers `sessionsOf`: test that it lists a user's live
   * sessions, oldest write first, and forgets deleted and lapsed ones.
   * Default false.
   */
  users?: boolean
  /**
   * The store offers `sessionsExpiringBefore`: test that it lists the live
   * sessions whose refresh token ends before a time, soonest first, and
   * forgets deleted and lapsed ones (with `rotation`: under either secret).
   * Default false.
   */
  expiring?: boolean
  /**
   * The store offers `rateLimit`: test that a window held is read back at
   * once, never shortened, and ignored once past. Default false.
   */
  rateLimit?: boolean
  /**
   * The store offers `watch`: test that it resolves when the session is
   * updated (within `watchWait` ms), not for another session, and when its
   * signal aborts. Default false.
   */
  watch?: boolean
  /** How long the suite waits, at most, for news of an update, in ms. Default 5000. */
  watchWait?: number
  /**
   * For a store built from the plugin's secrets (a `StoreFactory`): a store
   * over the same data, built with `secrets`. The suite then tests a
   * `secret` rotation: a session written under the previous secret is read,
   * refreshed, listed (with `users`) and deleted under the new list, and
   * moves to the new secret's name on its next write. Default: not tested.
   */
  rotation?: (secrets: readonly string[]) => TokenStore | Promise<TokenStore>
}

/**
 * The sample tokens' refresh horizon: six months from when the suite is
 * loaded, so that a store keeping records until then (as the shipped ones
 * do) keeps them for the whole run, and two calls agree.
 */
const HORIZON = Math.floor(Date.now() / 1000) + 182 * 24 * 60 * 60

/** A token as the plugin would store it; `n` makes each one distinct. */
export function sampleToken (n = 0, refreshes = 0): SpotifyToken {
  return {
    userId: `user-${n}`,
    accessToken: `BQ-access-${n}-${refreshes}`,
    refreshToken: `AQ-refresh-${n}`,
    expiresAt: 1_800_000_000 + n,
    scope: ['user-read-private', 'playlist-read-private'],
    obtainedAt: 1_799_996_400 + n,
    refreshes,
    authorizedAt: HORIZON - 182 * 24 * 60 * 60,
    refreshTokenExpiresAt: HORIZON
  }
}

/** A new session id of the plugin's shape (43 base64url characters). */
export function sampleSessionId (): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Runs the store contract. `create` makes a store for each case (a fresh one,
 * or one shared: every case uses new session ids).
 *
 * ```ts
 * import { testTokenStore } from 'fastify-spotify-auth/testing'
 * t.test('my store', (t) => testTokenStore(t, () => myStore(), { lock: true }))
 * ```
 */
export async function testTokenStore (t: ContractRunner, create: () => TokenStore | Promise<TokenStore>, options: ContractOptions = {}): Promise<void> {
  await t.test('get of an unknown session is undefined', async () => {
    const store = await create()
    assert.equal(await store.get(sampleSessionId()), undefined)
  })

  await t.test('set then get returns the same plain data', async () => {
    const store = await create()
    const id = sampleSessionId()
    const token = sampleToken(1)
    await store.set(id, token)
    const read = await store.get(id)
    assert.deepEqual(read, token)
    assert.deepEqual(JSON.parse(JSON.stringify(read)), token, 'survives JSON: plain data')
  })

  await t.test('set overwrites; sessions are independent', async () => {
    const store = await create()
    const a = sampleSessionId()
    const b = sampleSessionId()
    await store.set(a, sampleToken(1))
    await store.set(b, sampleToken(2))
    await store.set(a, sampleToken(3))
    assert.deepEqual(await store.get(a), sampleToken(3))
    assert.deepEqual(await store.get(b), sampleToken(2))
  })

  await t.test('delete removes; deleting twice or an unknown session is fine', async () => {
    const store = await create()
    const id = sampleSessionId()
    await store.set(id, sampleToken(1))
    await store.delete(id)
    assert.equal(await store.get(id), undefined)
    await store.delete(id)
    await store.delete(sampleSessionId())
  })

  await t.test('delete with an expected version deletes only that version', async () => {
    const store = await create()
    const id = sampleSessionId()
    const first = sampleToken(1, 0)
    const second = sampleToken(1, 1)
    await store.set(id, first)
    await store.update(id, first, second)
    await store.delete(id, first)
    assert.deepEqual(await store.get(id), second, 'a record that moved on is kept')
    await store.delete(id, second)
    assert.equal(await store.get(id), undefined, 'the expected version is deleted')
    await store.delete(id, second)
  })

  await t.test('update writes over the expected version', async () => {
    const store = await create()
    const id = sampleSessionId()
    const first = sampleToken(1, 0)
    const second = sampleToken(1, 1)
    await store.set(id, first)
    assert.equal(await store.update(id, first, second), true)
    assert.deepEqual(await store.get(id), second)
  })

  await t.test('update over a stale version fails and keeps the newer record', async () => {
    const store = await create()
    const id = sampleSessionId()
    const first = sampleToken(1, 0)
    const winner = sampleToken(1, 1)
    const loser = { ...sampleToken(1, 1), accessToken: 'BQ-loser' }
    await store.set(id, first)
    assert.equal(await store.update(id, first, winner), true)
    assert.equal(await store.update(id, first, loser), false)
    assert.deepEqual(await store.get(id), winner)
  })

  await t.test('update of a deleted session fails and does not resurrect it', async () => {
    const store = await create()
    const id = sampleSessionId()
    const first = sampleToken(1, 0)
    await store.set(id, first)
    await store.delete(id)
    assert.equal(await store.update(id, first, sampleToken(1, 1)), false)
    assert.equal(await store.get(id), undefined)
  })

  await testRefreshMarks(t, create)

  if (options.lock === true) await testLock(t, create, options.lockExpiry ?? create, options.lockTtl ?? 100, options.lockExpiryWait ?? 10_000)
  if (options.users === true) await testUsers(t, create, options.rotation)
  if (options.expiring === true) await testExpiring(t, create, options.rotation)
  if (options.rateLimit === true) await testRateLimit(t, create)
  if (options.watch === true) await testWatch(t, create, options.watchWait ?? 5000)
  if (options.rotation !== undefined) await testRotation(t, options.rotation)
}

/** The secrets of a rotation: the previous one, then the new one first. */
const PREVIOUS_SECRET = 'the-previous-session-secret-of-32-chars'
const NEW_SECRET = 'the-new-session-secret-of-at-least-32-chars'

type Rotation = NonNullable<ContractOptions['rotation']>

async function testRotation (t: ContractRunner, build: Rotation): Promise<void> {
  await t.test('rotation: a session written under the previous secret is read, refreshed and deleted under the new one', async () => {
    const id = sampleSessionId()
    const [first, second] = [sampleToken(1, 0), sampleToken(1, 1)]
    await (await build([PREVIOUS_SECRET])).set(id, first)
    const rotated = await build([NEW_SECRET, PREVIOUS_SECRET])
    assert.deepEqual(await rotated.get(id), first, 'read under the new list')
    assert.equal(await rotated.update(id, first, second), true, 'refreshed under the new list')
    assert.deepEqual(await rotated.get(id), second)
    assert.equal(await (await build([PREVIOUS_SECRET])).get(id), undefined, 'the write moved it off the previous secret')
    assert.deepEqual(await (await build([NEW_SECRET])).get(id), second, 'the previous secret can go')
    await rotated.delete(id)
    assert.equal(await rotated.get(id), undefined)
  })
}

async function testRateLimit (t: ContractRunner, create: () => TokenStore | Promise<TokenStore>): Promise<void> {
  await t.test('rateLimit: a window held is read back at once, and never shortened', async () => {
    const store = await create()
    const window = store.rateLimit
    assert.ok(window !== undefined, 'the store offers rateLimit')
    // A store shared between cases may already hold a window: start past it.
    const until = Math.max(window.until(), Date.now()) + 60_000
    await window.hold(until)
    assert.ok(window.until() >= until, 'read back by the same store at once')
    await window.hold(until - 30_000)
    assert.ok(window.until() >= until, 'a shorter window does not shorten it')
    await window.hold(Date.now() - 1000)
    assert.ok(window.until() >= until, 'a window already past changes nothing')
  })
}

async function testWatch (t: ContractRunner, create: () => TokenStore | Promise<TokenStore>, wait: number): Promise<void> {
  async function watching (): Promise<TokenStore & Required<Pick<TokenStore, 'watch'>>> {
    const store = await create()
    assert.equal(typeof store.watch, 'function', 'the store offers watch')
    return store as TokenStore & Required<Pick<TokenStore, 'watch'>>
  }

  await t.test('watch: resolves when the session is updated, not for another one', async () => {
    const store = await watching()
    const [id, other] = [sampleSessionId(), sampleSessionId()]
    await store.set(id, sampleToken(1))
    await store.set(other, sampleToken(2))
    const stop = new AbortController()
    let heard = false
    const news = store.watch(id, stop.signal).then(() => { heard = true })
    assert.equal(await store.update(other, sampleToken(2), sampleToken(2, 1)), true)
    assert.equal(await store.update(id, sampleToken(1), sampleToken(1, 1)), true)
    const timer = setTimeout(() => stop.abort(), wait)
    await news
    clearTimeout(timer)
    assert.ok(heard && !stop.signal.aborted, `news of the update within ${wait} ms`)
  })

  await t.test('watch: resolves when its signal aborts, or has aborted', async () => {
    const store = await watching()
    const stop = new AbortController()
    const watched = store.watch(sampleSessionId(), stop.signal)
    stop.abort()
    await watched
    await store.watch(sampleSessionId(), stop.signal)
  })
}

/** A user id no other case uses, so that a shared store does not mix the cases' sessions. */
function sampleUserId (): string {
  return `user-${randomBytes(8).toString('hex')}`
}

async function testUsers (t: ContractRunner, create: () => TokenStore | Promise<TokenStore>, rotation: Rotation | undefined): Promise<void> {
  async function withIndex (): Promise<TokenStore & Required<Pick<TokenStore, 'sessionsOf'>>> {
    const store = await create()
    assert.equal(typeof store.sessionsOf, 'function', 'the store offers sessionsOf')
    return store as TokenStore & Required<Pick<TokenStore, 'sessionsOf'>>
  }

  await t.test('sessionsOf lists a user\'s sessions, oldest write first', async () => {
    const store = await withIndex()
    const [alice, bob] = [sampleUserId(), sampleUserId()]
    const [a1, a2, b1] = [sampleSessionId(), sampleSessionId(), sampleSessionId()]
    assert.deepEqual(await store.sessionsOf(alice), [], 'nobody yet')
    await store.set(a1, { ...sampleToken(1), userId: alice })
    await store.set(b1, { ...sampleToken(2), userId: bob })
    await store.set(a2, { ...sampleToken(3), userId: alice })
    assert.deepEqual(await store.sessionsOf(alice), [a1, a2])
    assert.deepEqual(await store.sessionsOf(bob), [b1])
    // A refresh is a write: a1 becomes the most recent.
    assert.equal(await store.update(a1, { ...sampleToken(1), userId: alice }, { ...sampleToken(1, 1), userId: alice }), true)
    assert.deepEqual(await store.sessionsOf(alice), [a2, a1])
  })

  await t.test('sessionsOf forgets deleted and lapsed sessions', async () => {
    const store = await withIndex()
    const user = sampleUserId()
    const [kept, deleted, deletedAtVersion, lapsed] = [sampleSessionId(), sampleSessionId(), sampleSessionId(), sampleSessionId()]
    for (const id of [kept, deleted, deletedAtVersion]) await store.set(id, { ...sampleToken(1), userId: user })
    await store.set(lapsed, { ...sampleToken(2), userId: user, refreshTokenExpiresAt: Math.floor(Date.now() / 1000) - 1 })
    await store.delete(deleted)
    await store.delete(deletedAtVersion, { ...sampleToken(1), userId: user })
    assert.deepEqual(await store.sessionsOf(user), [kept])
  })

  await t.test('a session set again under another user moves to that user', async () => {
    const store = await withIndex()
    const [first, second] = [sampleUserId(), sampleUserId()]
    const id = sampleSessionId()
    await store.set(id, { ...sampleToken(1), userId: first })
    await store.set(id, { ...sampleToken(1), userId: second })
    assert.deepEqual(await store.sessionsOf(first), [])
    assert.deepEqual(await store.sessionsOf(second), [id])
  })

  if (rotation === undefined) return
  await t.test('rotation: sessionsOf lists a user\'s sessions under either secret, oldest write first', async () => {
    const user = sampleUserId()
    const [before, after] = [sampleSessionId(), sampleSessionId()]
    await (await rotation([PREVIOUS_SECRET])).set(before, { ...sampleToken(1), userId: user })
    const rotated = await rotation([NEW_SECRET, PREVIOUS_SECRET])
    assert.equal(typeof rotated.sessionsOf, 'function', 'the store offers sessionsOf')
    await rotated.set(after, { ...sampleToken(2), userId: user })
    assert.deepEqual(await rotated.sessionsOf?.(user), [before, after])
  })
}

/**
 * Refresh horizons no other case uses (a store may be shared by the cases):
 * a minute-wide slot of its own, well before the samples' `HORIZON`.
 */
let expirySlot = 0
function horizonSlot (): number {
  return HORIZON - 30 * 24 * 60 * 60 - 3600 * ++expirySlot - Math.floor(Math.random() * 1000) * 60 * 24 * 7
}

async function testExpiring (t: ContractRunner, create: () => TokenStore | Promise<TokenStore>, rotation: Rotation | undefined): Promise<void> {
  async function withExpiring (): Promise<TokenStore & Required<Pick<TokenStore, 'sessionsExpiringBefore'>>> {
    const store = await create()
    assert.equal(typeof store.sessionsExpiringBefore, 'function', 'the store offers sessionsExpiringBefore')
    return store as TokenStore & Required<Pick<TokenStore, 'sessionsExpiringBefore'>>
  }
  /** The ids among `ids` that the store lists before `time`, in the store's order. */
  async function listed (store: TokenStore & Required<Pick<TokenStore, 'sessionsExpiringBefore'>>, time: number, ids: string[]): Promise<string[]> {
    return (await store.sessionsExpiringBefore(time)).filter((id) => ids.includes(id))
  }

  await t.test('sessionsExpiringBefore lists the sessions whose refresh token ends before a time, soonest first', async () => {
    const store = await withExpiring()
    const base = horizonSlot()
    const [late, soon, sooner, later] = [sampleSessionId(), sampleSessionId(), sampleSessionId(), sampleSessionId()]
    await store.set(late, { ...sampleToken(1), refreshTokenExpiresAt: base + 30 })
    await store.set(soon, { ...sampleToken(2), refreshTokenExpiresAt: base + 10 })
    await store.set(sooner, { ...sampleToken(3), refreshTokenExpiresAt: base })
    await store.set(later, { ...sampleToken(4), refreshTokenExpiresAt: base + 31 })
    const all = [late, soon, sooner, later]
    assert.deepEqual(await listed(store, base + 31, all), [sooner, soon, late], 'before, not at')
    assert.deepEqual(await listed(store, base, all), [])
    // A refresh keeps the horizon, and the session stays listed once.
    assert.equal(await store.update(soon, sampleToken(2), { ...sampleToken(2, 1), refreshTokenExpiresAt: base + 10 }), true)
    assert.deepEqual(await listed(store, base + 11, all), [sooner, soon])
  })

  await t.test('sessionsExpiringBefore forgets deleted and lapsed sessions', async () => {
    const store = await withExpiring()
    const base = horizonSlot()
    const [kept, deleted, deletedAtVersion, lapsed] = [sampleSessionId(), sampleSessionId(), sampleSessionId(), sampleSessionId()]
    for (const id of [kept, deleted, deletedAtVersion]) await store.set(id, { ...sampleToken(1), refreshTokenExpiresAt: base })
    await store.set(lapsed, { ...sampleToken(2), refreshTokenExpiresAt: Math.floor(Date.now() / 1000) - 1 })
    await store.delete(deleted)
    await store.delete(deletedAtVersion, { ...sampleToken(1), refreshTokenExpiresAt: base })
    assert.deepEqual(await listed(store, base + 1, [kept, deleted, deletedAtVersion, lapsed]), [kept])
  })

  if (rotation === undefined) return
  await t.test('rotation: sessionsExpiringBefore lists sessions under either secret', async () => {
    const base = horizonSlot()
    const [before, after] = [sampleSessionId(), sampleSessionId()]
    await (await rotation([PREVIOUS_SECRET])).set(before, { ...sampleToken(1), refreshTokenExpiresAt: base })
    const rotated = await rotation([NEW_SECRET, PREVIOUS_SECRET])
    assert.equal(typeof rotated.sessionsExpiringBefore, 'function', 'the store offers sessionsExpiringBefore')
    await rotated.set(after, { ...sampleToken(2), refreshTokenExpiresAt: base + 1 })
    assert.deepEqual((await rotated.sessionsExpiringBefore?.(base + 2))?.filter((id) => id === before || id === after), [before, after])
  })
}

type Lock = NonNullable<TokenStore['lock']>

async function lockOf (create: () => TokenStore | Promise<TokenStore>): Promise<{ lock: Lock, store: TokenStore }> {
  const store = await create()
  assert.equal(typeof store.lock, 'function', 'the store offers lock')
  return { lock: store.lock as Lock, store }
}

async function testLock (t: ContractRunner, create: () => TokenStore | Promise<TokenStore>, expiring: () => TokenStore | Promise<TokenStore>, ttl: number, expiryWait: number): Promise<void> {
  await t.test('lock: taken once, refused while held, free again after release', async () => {
    const { lock, store } = await lockOf(create)
    const id = sampleSessionId()
    const release = await lock.call(store, id, ttl * 100)
    assert.equal(typeof release, 'function', 'a free lock is taken')
    assert.equal(await lock.call(store, id, ttl * 100), undefined, 'refused while held')
    const other = await lock.call(store, sampleSessionId(), ttl * 100)
    assert.equal(typeof other, 'function', 'locks of other sessions are independent')
    await (release as () => Promise<void>)()
    const again = await lock.call(store, id, ttl * 100)
    assert.equal(typeof again, 'function', 'free again after release')
    await again?.()
    await other?.()
  })

  await t.test('lock: concurrent takers, one wins', async () => {
    const { lock, store } = await lockOf(create)
    const id = sampleSessionId()
    const results = await Promise.all(Array.from({ length: 10 }, () => lock.call(store, id, ttl * 100)))
    const winners = results.filter((release) => release !== undefined)
    assert.equal(winners.length, 1)
    await winners[0]?.()
  })

  await t.test('lock: a release after the lock expired and was taken again does not free the new holder', async () => {
    const { lock, store } = await lockOf(expiring)
    const id = sampleSessionId()
    const first = await lock.call(store, id, ttl) as () => Promise<void>
    const second = await takenOnceExpired(lock, store, id, ttl, expiryWait)
    await first()
    assert.equal(await lock.call(store, id, ttl), undefined, 'the old holder released nothing of the new one')
    await second()
  })

  await t.test('lock: expires by itself, so a holder that died blocks no one for long', async () => {
    const { lock, store } = await lockOf(expiring)
    const id = sampleSessionId()
    const startedAt = Date.now()
    await lock.call(store, id, ttl)
    const release = await takenOnceExpired(lock, store, id, ttl, expiryWait)
    assert.ok(Date.now() - startedAt >= ttl, 'not before its ttl')
    await release()
  })
}

/** Polls until the lock can be taken again (it expired), within `wait` ms; never sooner than `ttl`. */
async function takenOnceExpired (lock: Lock, store: TokenStore, id: string, ttl: number, wait: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + wait
  for (;;) {
    const release = await lock.call(store, id, ttl)
    if (release !== undefined) return release
    assert.ok(Date.now() < deadline, `the lock did not expire within ${wait} ms`)
    await new Promise((resolve) => setTimeout(resolve, Math.max(5, ttl / 10)))
  }
}

/*
 * Refresh marks: before it asks Spotify for a new token, the plugin writes
 * a mark on the record through `update` at the record's own version
 * (`refreshStartedAt`, later maybe `refreshRefused`), and the refresh's
 * write then lands over the marked record. Every store must take such a
 * write, compare only the version, and keep the optional fields.
 */

/** `token` with a refresh mark, as the plugin writes it. */
function markedToken (token: SpotifyToken): SpotifyToken {
  return { ...token, refreshStartedAt: Math.floor(Date.now() / 1000), refreshRefused: true }
}

async function testRefreshMarks (t: ContractRunner, create: () => TokenStore | Promise<TokenStore>): Promise<void> {
  await t.test('refresh mark: update at the same version writes, keeps the optional fields, and the next version writes over it', async () => {
    const store = await create()
    const id = sampleSessionId()
    const first = sampleToken(1, 0)
    const marked = markedToken(first)
    const second = sampleToken(1, 1)
    await store.set(id, first)
    assert.equal(await store.update(id, first, marked), true, 'a write at the same version is taken')
    const read = await store.get(id)
    assert.deepEqual(read, marked, 'the mark is read back')
    assert.deepEqual(JSON.parse(JSON.stringify(read)), marked, 'survives JSON: plain data')
    assert.equal(await store.update(id, marked, marked), true, 'the same record written again is taken too')
    assert.equal(await store.update(id, first, second), true, 'only the version is compared')
    assert.deepEqual(await store.get(id), second, 'the new version replaces the record, mark included')
  })

  await t.test('refresh mark: refused over a record that moved on or was deleted', async () => {
    const store = await create()
    const id = sampleSessionId()
    const first = sampleToken(1, 0)
    const second = sampleToken(1, 1)
    await store.set(id, first)
    assert.equal(await store.update(id, first, second), true)
    assert.equal(await store.update(id, first, markedToken(first)), false, 'over another version')
    assert.deepEqual(await store.get(id), second)
    await store.delete(id)
    assert.equal(await store.update(id, second, markedToken(second)), false, 'over a deleted record')
    assert.equal(await store.get(id), undefined, 'which stays deleted')
  })

  await t.test('refresh mark: delete with an expected version deletes the marked record', async () => {
    const store = await create()
    const id = sampleSessionId()
    const first = sampleToken(1, 0)
    await store.set(id, first)
    assert.equal(await store.update(id, first, markedToken(first)), true)
    await store.delete(id, first)
    assert.equal(await store.get(id), undefined)
  })
}
