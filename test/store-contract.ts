import type { Test } from 'tap'
import type { SpotifyToken, TokenStore } from '../plugin/index.js'

/** A token as the plugin would store it; `n` makes each one distinct. */
export function sampleToken (n = 0, refreshes = 0): SpotifyToken {
  return {
    accessToken: `BQ-access-${n}-${refreshes}`,
    refreshToken: `AQ-refresh-${n}`,
    expiresAt: 1_800_000_000 + n,
    scope: ['user-read-private', 'playlist-read-private'],
    obtainedAt: 1_799_996_400 + n,
    refreshes
  }
}

let counter = 0
/** A session id of the plugin's shape (43 base64url characters), distinct per call. */
export function sampleSessionId (): string {
  counter++
  return `${String(counter).padStart(10, '0')}${'s'.repeat(33)}`
}

/**
 * The behaviour every TokenStore must have. A custom store proves itself by
 * passing it: `testTokenStore(t, () => myStore())`.
 */
export async function testTokenStore (t: Test, create: () => TokenStore | Promise<TokenStore>): Promise<void> {
  await t.test('get of an unknown session is undefined', async (t) => {
    const store = await create()
    t.equal(await store.get(sampleSessionId()), undefined)
  })

  await t.test('set then get returns the same plain data', async (t) => {
    const store = await create()
    const id = sampleSessionId()
    const token = sampleToken(1)
    await store.set(id, token)
    const read = await store.get(id)
    t.same(read, token)
    t.same(JSON.parse(JSON.stringify(read)), token, 'survives JSON: plain data')
  })

  await t.test('peek, when offered, answers like get', async (t) => {
    const store = await create()
    if (store.peek === undefined) {
      t.pass('this store does not peek')
      return
    }
    const id = sampleSessionId()
    t.equal(store.peek(id), undefined)
    await store.set(id, sampleToken(4))
    t.same(store.peek(id), await store.get(id))
    await store.delete(id)
    t.equal(store.peek(id), undefined)
  })

  await t.test('set overwrites; sessions are independent', async (t) => {
    const store = await create()
    const a = sampleSessionId()
    const b = sampleSessionId()
    await store.set(a, sampleToken(1))
    await store.set(b, sampleToken(2))
    await store.set(a, sampleToken(3))
    t.same(await store.get(a), sampleToken(3))
    t.same(await store.get(b), sampleToken(2))
  })

  await t.test('delete removes; deleting twice or an unknown session is fine', async (t) => {
    const store = await create()
    const id = sampleSessionId()
    await store.set(id, sampleToken(1))
    await store.delete(id)
    t.equal(await store.get(id), undefined)
    await t.resolves(store.delete(id))
    await t.resolves(store.delete(sampleSessionId()))
  })

  await t.test('delete with an expected version deletes only that version', async (t) => {
    const store = await create()
    const id = sampleSessionId()
    const first = sampleToken(1, 0)
    const second = sampleToken(1, 1)
    await store.set(id, first)
    await store.update(id, first, second)
    await store.delete(id, first)
    t.same(await store.get(id), second, 'a record that moved on is kept')
    await store.delete(id, second)
    t.equal(await store.get(id), undefined, 'the expected version is deleted')
    await t.resolves(store.delete(id, second), 'nothing left to delete is fine')
  })

  await t.test('update writes over the expected version', async (t) => {
    const store = await create()
    const id = sampleSessionId()
    const first = sampleToken(1, 0)
    const second = sampleToken(1, 1)
    await store.set(id, first)
    t.equal(await store.update(id, first, second), true)
    t.same(await store.get(id), second)
  })

  await t.test('update over a stale version fails and keeps the newer record', async (t) => {
    const store = await create()
    const id = sampleSessionId()
    const first = sampleToken(1, 0)
    const winner = sampleToken(1, 1)
    const loser = { ...sampleToken(1, 1), accessToken: 'BQ-loser' }
    await store.set(id, first)
    t.equal(await store.update(id, first, winner), true)
    t.equal(await store.update(id, first, loser), false)
    t.same(await store.get(id), winner)
  })

  await t.test('update of a deleted session fails and does not resurrect it', async (t) => {
    const store = await create()
    const id = sampleSessionId()
    const first = sampleToken(1, 0)
    await store.set(id, first)
    await store.delete(id)
    t.equal(await store.update(id, first, sampleToken(1, 1)), false)
    t.equal(await store.get(id), undefined)
  })
}
