import { MAX_WINDOW_MS } from '../../retry-after.js'
import type { RateLimitReason, RateLimitWindow, TokenStore } from '../types.js'
import type { RedisConnection, RedisSubscriber } from './connection.js'
import type { Guard } from './guard.js'
import { HOLD_RATE_LIMIT } from './scripts.js'

/** What the events are made of. */
export interface RedisEventsParts {
  readonly connection: RedisConnection
  /** Sends the events' commands: bounded, but never refused by the store's fail-fast window. */
  readonly guard: Guard
  /** The store's channel (./keys.ts). */
  readonly channel: string
  /** What the store calls the Spotify app (./keys.ts appName): its window's messages carry it. */
  readonly app: string
  /** The app's rate-limit window's key. */
  readonly rateLimitKey: string
  /** What messages call a session: the first name of its record, an HMAC (never its id). */
  readonly nameOf: (sessionId: string) => string
}

/**
 * What one subscriber connection brings a Redis store: the rate-limit window
 * of the app as Spotify counts it (its client id), as a local copy read
 * from its key at start-up, whenever the subscriber connects, and whenever
 * a message says it moved (a message carries no window: it could be
 * forged); and news of sessions (a refresh written, a refresh lock
 * released). One channel per store prefix, whatever the number of
 * sessions: nothing to subscribe per request, and classic pub/sub reaches
 * every node of a Redis Cluster. Messages name a session only by the HMAC
 * its record's key uses, never by its id.
 */
export class RedisEvents {
  readonly #connection: RedisConnection
  readonly #subscriber: RedisSubscriber
  readonly #guard: Guard
  readonly #channel: string
  readonly #key: string
  /** This app's window message, `r <app>`: "read the window again". */
  readonly #windowMessage: string
  readonly #nameOf: (sessionId: string) => string
  readonly #watchers = new Map<string, Set<() => void>>()
  #until = 0
  #reason: RateLimitReason | undefined
  #closed = false
  /** Stops listening for the client's end. */
  readonly #forget: () => void

  private constructor (subscriber: RedisSubscriber, parts: RedisEventsParts) {
    this.#connection = parts.connection
    this.#subscriber = subscriber
    this.#guard = parts.guard
    this.#channel = parts.channel
    this.#key = parts.rateLimitKey
    this.#windowMessage = `r ${parts.app}`
    this.#nameOf = parts.nameOf
    // A store built by hand and never closed must not keep a script alive
    // after it quit its client: the subscriber ends with the client.
    this.#forget = parts.connection.onEnd(() => { this.#close() })
  }

  /**
   * Subscribes on a connection of its own and reads the current window;
   * `undefined` when the client cannot open one. A subscription that fails
   * closes the connection and rejects: the store factory fails with it.
   */
  static async open (parts: RedisEventsParts): Promise<RedisEvents | undefined> {
    const subscriber = parts.connection.subscriber()
    if (subscriber === undefined) return undefined
    const events = new RedisEvents(subscriber, parts)
    subscriber.onMessage((message) => { events.#heard(message) })
    try {
      await events.#guard(() => subscriber.subscribe(events.#channel))
      await events.#readWindow()
    } catch (err) {
      events.#close()
      throw err
    }
    // After a reconnection: subscribe again (a second SUBSCRIBE to a
    // Cluster's subscriber, which has already, changes nothing), then read
    // the window, which may have opened meanwhile.
    subscriber.onReady(() => {
      subscriber.subscribe(events.#channel).then(() => events.#readWindow()).catch(() => {})
    })
    return events
  }

  /** The Redis store with these capabilities: its writes and lock releases announced. */
  around (store: TokenStore): TokenStore {
    const lock = store.lock as NonNullable<TokenStore['lock']>
    return {
      ...store,
      update: async (sessionId, previous, next) => {
        const written = await store.update(sessionId, previous, next)
        if (written) await this.#announce(sessionId)
        return written
      },
      lock: async (sessionId, ttlMs) => {
        const release = await lock(sessionId, ttlMs)
        if (release === undefined) return undefined
        return async () => {
          try {
            await release()
          } finally {
            // Waiters learn that the lock is free even when the holder wrote nothing.
            await this.#announce(sessionId)
          }
        }
      },
      watch: (sessionId, signal) => this.#watch(sessionId, signal),
      rateLimit: this.#window,
      close: () => { this.#close() }
    }
  }

  readonly #window: RateLimitWindow = {
    hold: async (untilMs, reason) => {
      this.#learn(untilMs, reason)
      if (untilMs <= Date.now()) return
      await this.#guard(() => this.#connection.script(HOLD_RATE_LIMIT, [this.#key], [untilMs, this.#channel, this.#windowMessage, reason === undefined ? '' : ` ${reason}`]))
    },
    until: () => this.#until,
    reason: () => this.#reason
  }

  #close (): void {
    this.#closed = true
    this.#forget()
    this.#subscriber.disconnect()
  }

  #learn (untilMs: number, reason?: RateLimitReason): void {
    if (untilMs > this.#until && untilMs <= Date.now() + MAX_WINDOW_MS) {
      this.#until = untilMs
      this.#reason = reason
    }
  }

  /** A window as the key and its message hold it: `<until>[ <reason>]` (scripts.ts). */
  #learnStored (stored: string): void {
    const space = stored.indexOf(' ')
    if (space === -1) this.#learn(Number(stored))
    else this.#learn(Number(stored.slice(0, space)), stored.slice(space + 1) === 'quota' ? 'quota' : undefined)
  }

  async #readWindow (): Promise<void> {
    const stored = await this.#guard(() => this.#connection.get(this.#key))
    if (typeof stored === 'string') this.#learnStored(stored)
  }

  #heard (message: string): void {
    // One channel is subscribed: every message is ours.
    const value = message.slice(2)
    if (message.startsWith('s ')) {
      const watchers = this.#watchers.get(value)
      if (watchers !== undefined) for (const wake of [...watchers]) wake()
    } else if (message === this.#windowMessage) {
      // Learnt from the store itself, never from the message: PUBLISH
      // rights are often wider than key rights, and a forged message with
      // no key behind it must block nothing. Another app's message (another
      // client id on this prefix) is not ours.
      this.#readWindow().catch(() => {})
    }
  }

  #watch (sessionId: string, signal: AbortSignal): Promise<void> {
    // ioredis reports the end of a connection it was told to close a little later.
    const status = this.#closed ? 'closed' : this.#subscriber.status
    if (status !== 'ready') return Promise.reject(new Error(`the Redis subscriber is not connected (${status})`))
    const name = this.#nameOf(sessionId)
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve()
        return
      }
      let watchers = this.#watchers.get(name)
      if (watchers === undefined) {
        watchers = new Set()
        this.#watchers.set(name, watchers)
      }
      const set = watchers
      // Called once: by a message (which leaves the abort listener behind
      // no more) or by the abort.
      const wake = (): void => {
        set.delete(wake)
        if (set.size === 0) this.#watchers.delete(name)
        signal.removeEventListener('abort', wake)
        resolve()
      }
      set.add(wake)
      signal.addEventListener('abort', wake, { once: true })
    })
  }

  /** A lost announcement only costs the waiters a poll interval: never the writer's failure. */
  async #announce (sessionId: string): Promise<void> {
    await this.#guard(() => this.#connection.publish(this.#channel, `s ${this.#nameOf(sessionId)}`)).catch(() => {})
  }
}
