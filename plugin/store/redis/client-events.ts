import type { RedisConnection } from './connection.js'

/** What both clients (ioredis, node-redis) offer to listen with. */
export interface EventfulClient {
  on? (event: string, listener: () => void): unknown
}

/**
 * The listeners of each client's end, however many stores share it: one
 * `end` listener per client (not one per store, which would trip Node's
 * leak warning past ten stores).
 */
const endListeners = new WeakMap<EventfulClient, Set<() => void>>()

/**
 * A connection's `onUpheaval` and `onEnd` over `client`'s events:
 * `upheavals` are the events after which what the store knew of the
 * server may be out of date (a reconnection, a topology change); each
 * client names them its own way.
 */
export function clientEvents (client: EventfulClient, upheavals: readonly string[]): Pick<RedisConnection, 'onUpheaval' | 'onEnd'> {
  return {
    onUpheaval (listener) {
      for (const event of upheavals) client.on?.(event, listener)
    },
    onEnd (listener) {
      let listeners = endListeners.get(client)
      if (listeners === undefined) {
        const all = new Set<() => void>()
        listeners = all
        endListeners.set(client, all)
        client.on?.('end', () => {
          for (const each of [...all]) each()
        })
      }
      const mine = listeners
      mine.add(listener)
      return () => { mine.delete(listener) }
    }
  }
}
