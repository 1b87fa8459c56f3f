import t from 'tap'
import { memoryStore } from '../plugin/index.js'
import { sampleSessionId, sampleToken, testTokenStore } from './store-contract.js'

t.test('memoryStore passes the TokenStore contract', (t) => testTokenStore(t, () => memoryStore()))

t.test('memoryStore keeps at most maxSessions, dropping the least recently written', async (t) => {
  const store = memoryStore({ maxSessions: 2 })
  const [a, b, c] = [sampleSessionId(), sampleSessionId(), sampleSessionId()]
  await store.set(a, sampleToken(1))
  await store.set(b, sampleToken(2))
  await store.update(a, sampleToken(1), sampleToken(1, 1))
  await store.set(c, sampleToken(3))
  t.same(await store.get(a), sampleToken(1, 1), 'rewritten recently: kept')
  t.equal(await store.get(b), undefined, 'oldest write: evicted')
  t.same(await store.get(c), sampleToken(3))
})

t.test('memoryStore drops a session once its ttl has passed since the last write', async (t) => {
  const store = memoryStore({ ttl: 5 })
  const id = sampleSessionId()
  await store.set(id, sampleToken(1))
  t.same(await store.get(id), sampleToken(1))
  // Wait for the wall clock to pass the deadline (no timer involved).
  const deadline = Date.now() + 6
  while (Date.now() <= deadline) await Promise.resolve()
  t.equal(await store.get(id), undefined)
  t.equal(await store.update(id, sampleToken(1), sampleToken(1, 1)), false, 'a lapsed session is not revived')
})
