import { createSealer } from './kit/sealing.js'
import type { RateLimitWindow, TokenStore } from './types.js'
import { within } from './kit/within.js'

/**
 * The connection the store subscribes on: what `duplicate()` of an ioredis
 * client (or Cluster) returns.
 */
export interface RedisSubscriber {
  readonly status: string
  subscribe (...channels: string[]): Promise<unknown>
  on (event: 'message', listener: (channel: string, message: string) => void): unknown
  on (event: 'ready' | 'error', listener: (...args: unknown[]) => void): unknown
  disconnect (): void
}

/** The part of the store's client the events use. */
export interface EventsClient {
  readonly status: string
  defineCommand (name: string, definition: { lua: string, numberOfKeys: number }): void
  call (command: string, ...args: Array<string | number>): Promise<unknown>
  /** ioredis: `Redis#duplicate(overrideOptions)`; a `Cluster`'s takes start-up nodes first. */
  duplicate? (override?: Record<string, unknown>): RedisSubscriber
  /** True on an ioredis `Cluster`. */
  readonly isCluster?: boolean
  on? (event: 'end', listener: () => void): unknown
}

/**
 * The subscribers opened on each client: they end with it. A store built by
 * hand and never closed must not keep a script alive after it quit its
 * client. One listener per client, however many stores it serves.
 */
const subscribersOf = new WeakMap<object, Set<() => void>>()

function endsWith (client: EventsClient, close: () => void): void {
  let subscribers = subscribersOf.get(client)
  if (subscribers === undefined) {
    const set = new Set<() => void>()
    subscribers = set
    subscribersOf.set(client, set)
    client.on?.('end', () => {
      for (const each of [...set]) each()
    })
  }
  subscribers.add(close)
}

/**
 * Opens the window only forward (a later `Retry-After` never shortens an
 * earlier, longer one), lets Redis drop it when it ends, and announces it.
 * KEYS: the window's key. ARGV: until (Unix ms), channel. → 1 when it moved.
 */
const HOLD = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) <= current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
redis.call('PUBLISH', ARGV[2], 'r ' .. ARGV[1])
return 1`

/** The longest window a message may open, as `Retry-After` is capped where it is read. */
const MAX_WINDOW_MS = 24 * 60 * 60 * 1000

type Command = (...args: Array<string | number>) => Promise<unknown>

export interface RedisEventsOptions {
  /** The store's key prefix; the client's own `keyPrefix` is added to the channel, as Redis adds it to keys. */
  prefix: string
  commandTimeout: number
  secrets: readonly string[]
}

/**
 * What one subscriber connection brings a Redis store: the app's rate-limit
 * window (a local copy updated by messages, read again whenever the
 * subscriber connects) and news of sessions (a refresh written, a refresh
 * lock released). One channel per store prefix, whatever the number of
 * sessions: nothing to subscribe per request, and classic pub/sub reaches
 * every node of a Redis Cluster. Messages name a session only by the HMAC
 * its record's key uses, never by its id.
 */
export class RedisEvents {
  readonly #client: EventsClient
  readonly #subscriber: RedisSubscriber
  readonly #channel: string
  readonly #key: string
  readonly #timeout: number
  readonly #names: (sessionId: string) => string
  readonly #watchers = new Map<string, Set<() => void>>()
  #until = 0
  #closed = false

  private constructor (client: EventsClient, subscriber: RedisSubscriber, options: RedisEventsOptions) {
    this.#client = client
    this.#subscriber = subscriber
    const keyPrefix = (client as { options?: { keyPrefix?: unknown } }).options?.keyPrefix
    // ioredis prefixes keys, not channels: do it here, so that apps kept
    // apart by their client's keyPrefix are also kept apart on the channel.
    this.#channel = `${typeof keyPrefix === 'string' ? keyPrefix : ''}${options.prefix}events`
    this.#key = `${options.prefix}rate-limit`
    this.#timeout = options.commandTimeout
    const sealer = createSealer(options.secrets)
    this.#names = (sessionId) => sealer.names(sessionId)[0] as string
    client.defineCommand('spotifyAuthHoldRateLimit', { lua: HOLD, numberOfKeys: 1 })
  }

  /**
   * Subscribes on a duplicate of `client` and reads the current window;
   * `undefined` when the client cannot be duplicated. A subscription that
   * fails closes the connection and rejects: the store factory fails with it.
   */
  static async open (client: EventsClient, options: RedisEventsOptions): Promise<RedisEvents | undefined> {
    if (typeof client.duplicate !== 'function') return undefined
    // ioredis re-subscribes a reconnected connection without catching the
    // rejection when it drops again before the answer: an unhandled
    // rejection, which ends a Node process. So a single connection's
    // subscriber re-subscribes here, with the failure handled; a Cluster's
    // own subscriber (which takes no such option) already handles it.
    const subscriber = client.isCluster === true ? client.duplicate() : client.duplicate({ autoResubscribe: false })
    const events = new RedisEvents(client, subscriber, options)
    endsWith(client, events.#closer)
    // Reconnections are ioredis's business (it subscribes again): errors
    // meanwhile must not crash the process, and polling covers the gap.
    subscriber.on('error', () => {})
    subscriber.on('message', (_channel, message) => { events.#heard(message) })
    try {
      await within('Redis', events.#timeout, () => subscriber.subscribe(events.#channel))
      await events.#readWindow()
    } catch (err) {
      events.#close()
      throw err
    }
    // After a reconnection: subscribe again (a second SUBSCRIBE to a
    // Cluster's subscriber, which has already, changes nothing), then read
    // the window, which may have opened meanwhile.
    subscriber.on('ready', () => {
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
    hold: async (untilMs) => {
      this.#learn(untilMs)
      if (untilMs <= Date.now()) return
      await this.#run(() => (this.#client as unknown as Record<string, Command>).spotifyAuthHoldRateLimit!(this.#key, untilMs, this.#channel))
    },
    until: () => this.#until
  }

  readonly #closer = (): void => { this.#close() }

  #close (): void {
    this.#closed = true
    subscribersOf.get(this.#client)?.delete(this.#closer)
    this.#subscriber.disconnect()
  }

  #learn (untilMs: number): void {
    if (untilMs > this.#until && untilMs <= Date.now() + MAX_WINDOW_MS) this.#until = untilMs
  }

  async #readWindow (): Promise<void> {
    const stored = await this.#run(() => this.#client.call('GET', this.#key))
    if (typeof stored === 'string') this.#learn(Number(stored))
  }

  #heard (message: string): void {
    // One channel is subscribed: every message is ours.
    const value = message.slice(2)
    if (message.startsWith('s ')) {
      const watchers = this.#watchers.get(value)
      if (watchers !== undefined) for (const wake of [...watchers]) wake()
    } else if (message.startsWith('r ')) {
      this.#learn(Number(value))
    }
  }

  #watch (sessionId: string, signal: AbortSignal): Promise<void> {
    // ioredis reports the end of a connection it was told to close a little later.
    const status = this.#closed ? 'closed' : this.#subscriber.status
    if (status !== 'ready') return Promise.reject(new Error(`the Redis subscriber is not connected (${status})`))
    const name = this.#names(sessionId)
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
    await this.#run(() => this.#client.call('PUBLISH', this.#channel, `s ${this.#names(sessionId)}`)).catch(() => {})
  }

  #run<T> (operation: () => Promise<T>): Promise<T> {
    if (this.#client.status !== 'ready') return Promise.reject(new Error(`Redis is not connected (${this.#client.status})`))
    return within('Redis', this.#timeout, operation)
  }
}
