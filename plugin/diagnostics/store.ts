import type { TokenStore } from '../store/types.js'
import { storeChannel, traced, type StoreMessage, type StoreOperation } from './channels.js'

/** The kinds of the plugin's own stores, by the object each factory returned. */
const kinds = new WeakMap<TokenStore, string>()

/** Names the kind of a store the plugin built (`memory`, `redis`, `postgres`): what the `store` channel reports. */
export function storeKind<S extends TokenStore> (kind: string, store: S): S {
  kinds.set(store, kind)
  return store
}

/** Runs one store operation as a trace of the `store` channel, when anyone subscribes. */
function operation<T> (kind: string, name: StoreOperation, work: () => Promise<T>, applied?: (value: T) => boolean): Promise<T> {
  if (!storeChannel.hasSubscribers) return work()
  const message: StoreMessage = { operation: name, store: kind }
  if (applied === undefined) return traced(storeChannel, message, work)
  return traced(storeChannel, message, () => work().then((value) => {
    message.applied = applied(value)
    return value
  }))
}

/** Every part of a store that `instrumentedStore` carries (`close` is left to the plugin, which closes the store itself). */
type Carried = 'get' | 'set' | 'update' | 'delete' | 'lock' | 'sessionsOf' | 'sessionsExpiringBefore' | 'ping' | 'settled' | 'watch' | 'rateLimit' | 'close'
type Assert<T extends true> = T
/**
 * Compiles only while `Carried` names every part of `TokenStore`: a
 * capability added to the contract cannot be dropped here unnoticed.
 */
export type EveryPartCarried = Assert<Exclude<keyof TokenStore, Carried> extends never ? true : false>

/**
 * The store as the plugin uses it: every operation the plugin makes
 * published on the `store` channel, in this one place rather than in each
 * store. The optional parts are there exactly when the store has them
 * (the plugin asks `lock !== undefined` and the like). The app's own
 * reference (`fastify.spotify.store`) stays the store itself.
 */
export function instrumentedStore (store: TokenStore): TokenStore {
  const kind = kinds.get(store) ?? 'custom'
  const wrapped: TokenStore = {
    get: (sessionId) => operation(kind, 'get', () => store.get(sessionId)),
    set: (sessionId, token) => operation(kind, 'set', () => store.set(sessionId, token)),
    update: (sessionId, previous, next) => operation(kind, 'update', () => store.update(sessionId, previous, next), Boolean),
    delete: (sessionId, expected) => operation(kind, 'delete', () => store.delete(sessionId, expected))
  }
  if (store.lock !== undefined) {
    const lock = store.lock.bind(store)
    wrapped.lock = (sessionId, ttlMs) => operation(kind, 'lock', () => lock(sessionId, ttlMs), (release) => release !== undefined)
      .then((release) => release === undefined ? undefined : () => operation(kind, 'unlock', release))
  }
  if (store.sessionsOf !== undefined) {
    const sessionsOf = store.sessionsOf.bind(store)
    wrapped.sessionsOf = (userId) => operation(kind, 'sessionsOf', () => sessionsOf(userId))
  }
  // Called on the store as it is at the time, like get and set.
  if (store.sessionsExpiringBefore !== undefined) {
    wrapped.sessionsExpiringBefore = (time) => operation(kind, 'sessionsExpiringBefore', () => (store as Required<TokenStore>).sessionsExpiringBefore(time))
  }
  if (store.ping !== undefined) wrapped.ping = () => operation(kind, 'ping', () => (store as Required<TokenStore>).ping())
  if (store.settled !== undefined) wrapped.settled = store.settled.bind(store)
  if (store.watch !== undefined) wrapped.watch = store.watch.bind(store)
  return store.rateLimit === undefined ? wrapped : { ...wrapped, rateLimit: store.rateLimit }
}
