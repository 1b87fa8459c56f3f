import { memoryStore, type TokenStore } from '../../plugin/index.js'

/**
 * A custom store (as a user could write one) that, once armed, loses each
 * session right after reading it: what a logout on another instance does
 * between a request's first read and its next.
 */
export function vanishingStore (): { store: TokenStore, arm (): void } {
  const inner = memoryStore()
  let armed = false
  return {
    store: {
      async get (id) {
        const token = await inner.get(id)
        if (armed) await inner.delete(id)
        return token
      },
      set: (id, token) => inner.set(id, token),
      update: (id, previous, next) => inner.update(id, previous, next),
      delete: (id) => inner.delete(id)
    },
    arm () { armed = true }
  }
}

/** What `t.throws` matches for a store's bad option: the plugin's code, and a message naming the option. */
export function invalid (message: RegExp): { code: string, message: RegExp } {
  return { code: 'FST_SPOTIFY_INVALID_OPTION', message }
}
