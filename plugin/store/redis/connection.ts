import type { RedisScript } from './scripts.js'

/**
 * What the Redis store needs from a Redis client: a handful of typed
 * commands, its scripts, a `WAIT` on the right connection, and a
 * subscriber. One implementation per client library (./ioredis.ts); the
 * store, its events and its durability talk to this interface only.
 *
 * Routing is the client's business: on a Cluster, each command goes to the
 * node that owns its first key (a session's keys share one hash slot:
 * ./keys.ts). Replies come back as plain values whatever the wire protocol
 * (RESP2 or RESP3).
 */
export interface RedisConnection {
  /** `'ready'` while commands can be sent now; any other value says why not (it is shown in the 503's cause). */
  readonly status: string
  /**
   * What the client itself puts before every key (ioredis's `keyPrefix`),
   * `''` for none. Channels are not keys: the events add it to theirs, so
   * that apps kept apart by it are kept apart there too.
   */
  readonly keyPrefix: string
  /** Answers once the server does (a client still connecting queues it). */
  ping (): Promise<unknown>
  /** Runs `script` with these keys (any number, all in one slot) and arguments. */
  script (script: RedisScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown>
  get (key: string): Promise<string | null>
  /** `SET key value PX ttlMs NX`: true when it was set (the key was free). */
  setIfAbsent (key: string, value: string, ttlMs: number): Promise<boolean>
  /** How many of `keys` exist (all in one slot). */
  exists (keys: readonly string[]): Promise<number>
  /** A sorted set's members with their scores, lowest score first. */
  scored (key: string): Promise<Array<[member: string, score: number]>>
  /** Removes `members` from a sorted set. */
  removeMembers (key: string, members: readonly string[]): Promise<void>
  publish (channel: string, message: string): Promise<void>
  /**
   * Runs `script` on `key`, then `WAIT replicas timeoutMs` on the same
   * connection: the one that writes `key` (`WAIT` counts that connection's
   * writes only). Resolves how many replicas acknowledged; rejects when
   * either fails (a node that does not own `key` answers MOVED to the
   * script, so its acknowledgements never count).
   */
  waitAfter (script: RedisScript, key: string, args: ReadonlyArray<string | number>, replicas: number, timeoutMs: number): Promise<number>
  /**
   * Calls `listener` after anything that may let a read miss a write: the
   * connection closed or came back, a Cluster's nodes changed.
   */
  onUpheaval (listener: () => void): void
  /** Calls `listener` once the client has ended (quit or disconnected for good). */
  onEnd (listener: () => void): () => void
  /**
   * A new connection of the store's own, for pub/sub, or `undefined` when the
   * client cannot open one. The store closes it; the client stays yours.
   */
  subscriber (): RedisSubscriber | undefined
}

/**
 * A subscriber connection. A reconnection may lose its subscriptions:
 * `onReady` says when to subscribe again. Its errors never throw.
 */
export interface RedisSubscriber {
  readonly status: string
  subscribe (channel: string): Promise<void>
  onMessage (listener: (message: string) => void): void
  /** After every reconnection (subscriptions may have been lost meanwhile). */
  onReady (listener: () => void): void
  disconnect (): void
}
