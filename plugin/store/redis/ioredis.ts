import { clientEvents } from './client-events.js'
import type { RedisConnection, RedisSubscriber } from './connection.js'
import { pairs } from './replies.js'
import type { RedisScript } from './scripts.js'

/**
 * The part of an ioredis client the Redis store uses. `new Redis(…)` (also
 * with `sentinels`), `new Cluster(…)` from `ioredis` 5 or 6, and the
 * client of `@fastify/redis` all fit.
 */
export interface IoredisClient {
  /** `'ready'` once connected: the store fails fast (503) otherwise. */
  readonly status: string
  /** True on a `Cluster`. */
  readonly isCluster?: boolean
  /** The client's options: a `keyPrefix` is applied to the store's keys too. */
  readonly options?: {
    /** Prepended to every key by ioredis. */
    readonly keyPrefix?: string
  }
  /** Registers a Lua script as a command (sent by SHA, EVAL on a miss). */
  defineCommand (name: string, definition: { lua: string, numberOfKeys?: number }): void
  /** Sends any command. */
  call (command: string, ...args: Array<string | number>): Promise<unknown>
  /** Commands sent together, routed by ioredis (`WAIT` after a write goes to the node that took it). */
  pipeline (): IoredisPipeline
  /** A new connection with the same options: the store subscribes on one. */
  duplicate? (): IoredisSubscriber
  /** Connection events: the store listens for reconnections and Cluster changes. */
  on? (event: string, listener: (...args: unknown[]) => void): unknown
}

/** What the store uses of an ioredis pipeline. */
export interface IoredisPipeline {
  /** Queues a command. */
  call (command: string, ...args: Array<string | number>): unknown
  /** Sends the queue; each answer with its error. */
  exec (): Promise<Array<[error: Error | null, reply: unknown]> | null>
}

/** What the store uses of the connection `duplicate()` returns. */
export interface IoredisSubscriber {
  /** `'ready'` once connected. */
  readonly status: string
  /** Subscribes to channels. */
  subscribe (...channels: string[]): Promise<unknown>
  /** A message on a subscribed channel. */
  on (event: 'message', listener: (channel: string, message: string) => void): unknown
  /** Connected again, or failed. */
  on (event: 'ready' | 'error', listener: (...args: unknown[]) => void): unknown
  /** Closes the connection. */
  disconnect (): void
}

/** `Redis#duplicate` with options to override (a `Cluster`'s takes start-up nodes first). */
type DuplicateWith = (override: { autoResubscribe: boolean }) => IoredisSubscriber

/** A command that ioredis's `defineCommand` added, called with the key count first. */
type ScriptCommand = (keyCount: number, ...keysAndArgs: Array<string | number>) => Promise<unknown>

/** Events after which a read may no longer show every write: a lost connection, a changed Cluster. */
const UPHEAVALS = ['close', 'ready', '+node', '-node', 'node error']

/** The message of the error ioredis emits when a connection attempt is cut short. */
const CUT_SHORT = 'Connection is closed.'

/** What `reviveWhenCutShort` uses of a client or of a subscriber connection. */
interface Revivable {
  readonly status: string
  on? (event: string, listener: (...args: unknown[]) => void): unknown
  connect? (): Promise<unknown>
}

/** Clients already watched (several stores may share one). */
const watched = new WeakSet<Revivable>()

/**
 * Connects `client` again when ioredis ended it without being asked to.
 * ioredis (6.0, and earlier versions with the same connect code) ends a
 * Sentinel client for good when its failover
 * detector hears +switch-master while the client, reconnecting, is asking a
 * sentinel for the master: the detector's disconnect cuts that attempt, and
 * a cut attempt ends the client instead of retrying. The sentinels announce
 * a switch just as the clients of a dead master reconnect, so this happens
 * in real failovers; the store would answer 503 until the app restarts.
 *
 * Its signature: the error `Connection is closed.` while the client is
 * `connecting`, then `end` (without `reconnecting` or `ready` between). An
 * end its owner asked for (`disconnect()`, `quit()`) emits no such error,
 * and a retry strategy that gives up fails with other messages: those
 * clients stay ended. Registered before the store's own `end` listener,
 * which then finds the client connecting again.
 * (Listening for `error` means ioredis no longer prints a client's errors
 * as unhandled: listen for them yourself to see them.)
 */
function reviveWhenCutShort (client: Revivable): void {
  if (typeof client.connect !== 'function' || watched.has(client)) return
  watched.add(client)
  const connect = client.connect.bind(client)
  let cut = false
  client.on?.('error', (error) => {
    if (client.status === 'connecting' && (error as Error).message === CUT_SHORT) cut = true
  })
  // A cut attempt that ioredis retried did not end the client: the end that
  // comes later (its owner's disconnect) must not connect it again, or the
  // client outlives its owner and keeps the process running.
  const survived = (): void => { cut = false }
  client.on?.('reconnecting', survived)
  client.on?.('ready', survived)
  client.on?.('end', () => {
    if (!cut) return
    cut = false
    // Its failures reach the client's error listeners; its status says why.
    connect().catch(() => {})
  })
}

/** Whether `value` looks like an ioredis client (a `Redis` or a `Cluster`). */
export function isIoredis (value: unknown): value is IoredisClient {
  const client = value as Partial<IoredisClient> | null
  return typeof client === 'object' && client !== null &&
    typeof client.defineCommand === 'function' && typeof client.call === 'function' && typeof client.pipeline === 'function'
}

/** Registers `script` on `client` unless it already is (one registration serves every store on the client). */
function define (client: IoredisClient, script: RedisScript): void {
  if (typeof Reflect.get(client, script.name) !== 'function') client.defineCommand(script.name, { lua: script.lua })
}

/** The command `defineCommand` added for `script`, on `target` (the client, or a pipeline of it, which copies its commands). */
function commandOf (target: object, script: RedisScript): ScriptCommand {
  const command: ScriptCommand = Reflect.get(target, script.name)
  return command.bind(target)
}

/** The Redis store's connection over an ioredis client. */
export function ioredisConnection (client: IoredisClient): RedisConnection {
  const keyPrefix = client.options?.keyPrefix
  const commands = new Map<RedisScript, ScriptCommand>()

  /** `script`'s command on the client, registered at its first use. */
  function commandFor (script: RedisScript): ScriptCommand {
    let command = commands.get(script)
    if (command === undefined) {
      define(client, script)
      command = commandOf(client, script)
      commands.set(script, command)
    }
    return command
  }

  reviveWhenCutShort(client)
  const events = clientEvents(client, UPHEAVALS)

  return {
    get status () { return client.status },
    keyPrefix: typeof keyPrefix === 'string' ? keyPrefix : '',
    ping: () => client.call('PING'),
    script: (script, keys, args) => commandFor(script)(keys.length, ...keys, ...args),
    get: (key) => client.call('GET', key) as Promise<string | null>,
    setIfAbsent: async (key, value, ttlMs) => await client.call('SET', key, value, 'PX', ttlMs, 'NX') === 'OK',
    exists: (keys) => client.call('EXISTS', ...keys) as Promise<number>,
    scored: async (key) => pairs(await client.call('ZRANGE', key, 0, -1, 'WITHSCORES')),
    async removeMembers (key, members) {
      await client.call('ZREM', key, ...members)
    },
    async publish (channel, message) {
      await client.call('PUBLISH', channel, message)
    },
    async waitAfter (script, key, args, replicas, timeoutMs) {
      // A pipeline goes to the node that owns its keys: ioredis routes the
      // WAIT beside the script, on the connection that wrote the record.
      define(client, script)
      const pipeline = client.pipeline()
      commandOf(pipeline, script)(1, key, ...args)
      pipeline.call('WAIT', replicas, timeoutMs)
      const replies = await pipeline.exec()
      const failure = replies?.find(([error]) => error !== null)
      if (failure !== undefined) throw failure[0]
      return Number(replies?.[1]?.[1])
    },
    onUpheaval: events.onUpheaval,
    // Not when the client was connected again (above): it lives on.
    onEnd: (listener) => events.onEnd(() => { if (client.status === 'end') listener() }),
    subscriber: () => subscriberOf(client)
  }
}

function subscriberOf (client: IoredisClient): RedisSubscriber | undefined {
  if (typeof client.duplicate !== 'function') return undefined
  // ioredis re-subscribes a reconnected connection without catching the
  // rejection when it drops again before the answer: an unhandled
  // rejection, which ends a Node process. So a single connection's
  // subscriber does not, and the events subscribe again on `ready`, with
  // the failure handled; a Cluster's own subscriber (which takes no such
  // option) already handles it.
  const connection = client.isCluster === true ? client.duplicate() : (client.duplicate as DuplicateWith).call(client, { autoResubscribe: false })
  // Reconnections are ioredis's business: errors meanwhile must not crash
  // the process, and polling covers the gap.
  connection.on('error', () => {})
  reviveWhenCutShort(connection)
  return {
    get status () { return connection.status },
    async subscribe (channel) {
      await connection.subscribe(channel)
    },
    onMessage (listener) {
      connection.on('message', (_channel: string, message: string) => { listener(message) })
    },
    onReady (listener) {
      connection.on('ready', listener)
    },
    disconnect () {
      connection.disconnect()
    }
  }
}
