import { EventEmitter } from 'node:events'
import t, { type Test as Tap } from 'tap'
import { memoryStore, type TokenStore } from '../plugin/index.js'
import { build } from './helpers/build.js'

type Watch = NonNullable<TokenStore['watch']>

/**
 * A store shared by two apps in this process, as instances share Redis: a
 * lock of its own, so that one app refreshes while the other waits, and
 * `watch` as the case makes it. `watching` resolves once a waiter watches.
 */
function sharedStore (makeWatch: (news: EventEmitter) => Watch) {
  const inner = memoryStore()
  const news = new EventEmitter()
  const locks = new Set<string>()
  let watched!: () => void
  const watching = new Promise<void>((resolve) => { watched = resolve })
  const watch = makeWatch(news)
  const store: TokenStore = {
    get: inner.get,
    set: inner.set,
    delete: inner.delete,
    async update (sessionId, previous, next) {
      const written = await inner.update(sessionId, previous, next)
      if (written) news.emit(sessionId)
      return written
    },
    async lock (sessionId) {
      if (locks.has(sessionId)) return undefined
      locks.add(sessionId)
      return async () => { locks.delete(sessionId) }
    },
    watch (sessionId, signal) {
      watched()
      return watch(sessionId, signal)
    }
  }
  return { store, watching }
}

/** One app refreshes (its token call held), the other waits for it; both answer 200 after one refresh. */
async function waitForSibling (t: Tap, shared: ReturnType<typeof sharedStore>) {
  const a = await build(t, { plugin: { store: shared.store }, emulator: { accessTokenTtl: 30 } })
  const b = await build(t, { sharedEmulator: a.emulator, plugin: { store: shared.store } })
  const { jar } = await a.login()
  a.emulator.control.resetCounters()
  const hold = a.emulator.control.holdTokenCalls()
  const refreshing = a.request(jar, { url: '/spotify/me' })
  await hold.arrived
  const waiting = b.request(jar, { url: '/spotify/me' })
  await shared.watching
  hold.release()
  const [first, second] = await Promise.all([refreshing, waiting])
  t.equal(first.statusCode, 200, 'the refreshing instance')
  t.equal(second.statusCode, 200, 'the waiting instance got the new token')
  t.equal(a.emulator.control.counters.refresh_token, 1, 'one refresh')
}

t.test('a waiter wakes on the store\'s news of the refresh', async (t) => {
  await waitForSibling(t, sharedStore((news) => (sessionId, signal) => new Promise((resolve) => {
    const wake = (): void => {
      news.off(sessionId, wake)
      signal.removeEventListener('abort', wake)
      resolve()
    }
    news.on(sessionId, wake)
    signal.addEventListener('abort', wake)
  })))
})

t.test('a store that cannot watch leaves the waiter polling', async (t) => {
  await waitForSibling(t, sharedStore(() => async () => { throw new Error('not subscribed') }))
})

t.test('news that never comes (a lost message): the safety-net poll finds the token', async (t) => {
  await waitForSibling(t, sharedStore(() => (_sessionId, signal) => new Promise((resolve) => {
    signal.addEventListener('abort', () => resolve())
  })))
})
