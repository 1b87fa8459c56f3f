import t from 'tap'
import { memoryStore } from '../plugin/index.js'
import { sampleSessionId, sampleToken, testTokenStore } from '../plugin/testing/index.js'
import { invalid } from './helpers/stores.js'

t.test('memoryStore passes the TokenStore contract, per-user index and rate-limit window included', (t) => testTokenStore(t, () => memoryStore(), { users: true, expiring: true, rateLimit: true }))

t.test('the contract\'s lock tests run on the store itself without lockExpiry: a lock whose lease is its ttl', (t) => {
  // What a store whose lease adds no timeout of its own needs: one store for every case.
  const locks = new Map<string, { until: number }>()
  return testTokenStore(t, () => ({
    ...memoryStore(),
    async lock (sessionId, ttlMs) {
      if ((locks.get(sessionId)?.until ?? 0) > Date.now()) return undefined
      const held = { until: Date.now() + ttlMs }
      locks.set(sessionId, held)
      return async () => { if (locks.get(sessionId) === held) locks.delete(sessionId) }
    }
  }), { lock: true })
})

t.test('memoryStore keeps at most maxSessions, dropping the least recently used', async (t) => {
  const store = memoryStore({ maxSessions: 2 })
  const [a, b, c] = [sampleSessionId(), sampleSessionId(), sampleSessionId()]
  await store.set(a, sampleToken(1))
  await store.set(b, sampleToken(2))
  await store.update(a, sampleToken(1), sampleToken(1, 1))
  await store.set(c, sampleToken(3))
  t.same(await store.get(a), sampleToken(1, 1), 'rewritten recently: kept')
  t.equal(await store.get(b), undefined, 'oldest write: evicted')
  t.same(await store.get(c), sampleToken(3))
  const d = sampleSessionId()
  await store.get(a)
  await store.set(d, sampleToken(4))
  t.same(await store.get(a), sampleToken(1, 1), 'read recently: kept')
  t.equal(await store.get(c), undefined, 'written after a, but not used since: evicted')
})

t.test('memoryStore keeps a session until its refresh token expires', async (t) => {
  const store = memoryStore()
  const now = Math.floor(Date.now() / 1000)
  const [live, dead] = [sampleSessionId(), sampleSessionId()]
  await store.set(live, { ...sampleToken(1), refreshTokenExpiresAt: now + 60 })
  await store.set(dead, { ...sampleToken(2), refreshTokenExpiresAt: now - 1 })
  t.ok(await store.get(live), 'before: kept')
  t.equal(await store.get(dead), undefined, 'after: gone, it could never be refreshed again')
})

t.test('memoryStore drops a session once its ttl has passed since its token was obtained', async (t) => {
  const store = memoryStore({ ttl: 50_000 })
  const now = Math.floor(Date.now() / 1000)
  const [fresh, lapsed] = [sampleSessionId(), sampleSessionId()]
  const freshToken = { ...sampleToken(1), obtainedAt: now }
  const lapsedToken = { ...sampleToken(2), obtainedAt: now - 100 }
  await store.set(fresh, freshToken)
  await store.set(lapsed, lapsedToken)
  t.same(await store.get(fresh), freshToken, 'obtained now: kept')
  t.equal(await store.get(lapsed), undefined, 'obtained 100 s ago with a 50 s ttl: gone')
  t.equal(await store.update(lapsed, lapsedToken, sampleToken(2, 1)), false, 'a lapsed session is not revived')
})

t.test('memoryStore refuses a bad option with FST_SPOTIFY_INVALID_OPTION, naming it', async (t) => {
  t.throws(() => memoryStore({ maxSessions: 1.5 }), invalid(/^fastify-spotify-auth: memoryStore options\.maxSessions must be a positive integer$/))
  t.throws(() => memoryStore({ ttl: Number.POSITIVE_INFINITY }), invalid(/^fastify-spotify-auth: memoryStore options\.ttl must be a positive number of ms$/))
  t.throws(() => memoryStore({ ttl: '60000' as never }), invalid(/options\.ttl must be a positive number of ms/))
})
