import { clientEvents } from './client-events.js'
import type { RedisConnection, RedisSubscriber } from './connection.js'
import { pairs } from './replies.js'
import type { RedisScript } from './scripts.js'

/**
 * The part of a node-redis client (the `redis` package, or
 * `@redis/client`, version 6) the Redis store uses: `createClient()`,
 * `createCluster()` or `createSentinel()`, connected. Commands go through
 * `sendCommand`, whose arguments differ between the three (the store tells
 * them apart), so this shape names only what they share.
 */
export interface NodeRedisClient {
  /** True while commands can be sent: the store fails fast (503) otherwise. */
  readonly isReady: boolean
  /** True from `connect()` until `close()`/`destroy()`, reconnections included. */
  readonly isOpen: boolean
  /** Sends any command: `(args)`, `(firstKey, isReadonly, args)` on a Cluster, `(isReadonly, args)` behind Sentinel. */
  sendCommand (...args: never[]): Promise<unknown>
  /** A new client with the same options: the store subscribes on one (connected and closed by the store). */
  duplicate? (): unknown
  /** Connection events: the store listens for reconnections and its end. */
  on? (event: string, listener: (...args: unknown[]) => void): unknown
}

/** Arguments as Redis takes them over the wire. */
type Args = readonly string[]

/** One command, sent to the node that owns `firstKey` (on a Cluster; elsewhere, the one server or master). */
type Send = (firstKey: string | undefined, args: Args) => Promise<unknown>

/** What the store needs of each kind of node-redis client. */
interface Kind {
  readonly send: Send
  /** Sends `commands` in order on one connection (the one `firstKey` routes to), without waiting in between. */
  readonly together: (firstKey: string, commands: readonly Args[]) => Promise<unknown[]>
}

/** `duplicate()`'s client, as the store subscribes on it. */
interface NodeRedisSubscriberClient {
  readonly isReady: boolean
  readonly isOpen: boolean
  connect (): Promise<unknown>
  SUBSCRIBE (channel: string, listener: (message: string) => void): Promise<void>
  destroy (): unknown
  on (event: string, listener: (...args: unknown[]) => void): unknown
}

/** Events after which a read may no longer show every write: a lost connection, a changed topology. */
const UPHEAVALS = ['ready', 'reconnecting', 'end', 'topology-change']

/** Whether `value` looks like a node-redis client (a client, a Cluster or a Sentinel). */
export function isNodeRedis (value: unknown): value is NodeRedisClient {
  const client = value as Partial<NodeRedisClient> | null
  return typeof client === 'object' && client !== null &&
    typeof client.sendCommand === 'function' && typeof client.isReady === 'boolean' && typeof client.isOpen === 'boolean'
}

/** How to send commands with this kind of client. */
function kindOf (client: NodeRedisClient): Kind {
  const loose = client as unknown as Record<string, unknown>
  if (Array.isArray(loose.masters)) {
    // A Cluster routes each command by its first key; commands to one slot
    // go, in order, on the connection to the node that owns it.
    const send = client.sendCommand.bind(client) as unknown as (firstKey: string | undefined, isReadonly: boolean, args: Args) => Promise<unknown>
    return {
      send: (firstKey, args) => send(firstKey, false, args),
      together: (firstKey, commands) => Promise.all(commands.map((args) => send(firstKey, false, args)))
    }
  }
  if (typeof loose.use === 'function') {
    // Sentinel: commands go to the master, over a pool; `use` leases one of
    // its connections, so that a WAIT counts the write sent before it.
    const send = client.sendCommand.bind(client) as unknown as (isReadonly: boolean, args: Args) => Promise<unknown>
    // The leased client takes the same arguments as the Sentinel's own.
    const use = (loose.use as (fn: (lease: { sendCommand: (isReadonly: boolean, args: Args) => Promise<unknown> }) => Promise<unknown[]>) => Promise<unknown[]>).bind(client)
    return {
      send: (_firstKey, args) => send(false, args),
      together: (_firstKey, commands) => use((lease) => Promise.all(commands.map((args) => lease.sendCommand(false, args))))
    }
  }
  // One server, one connection: commands go out in the order they are sent.
  const send = client.sendCommand.bind(client) as unknown as (args: Args) => Promise<unknown>
  return {
    send: (_firstKey, args) => send(args),
    together: (_firstKey, commands) => Promise.all(commands.map((args) => send(args)))
  }
}

/** The status the store shows for a node-redis client: `'ready'`, or why not. */
function statusOf (client: { readonly isReady: boolean, readonly isOpen: boolean }): string {
  if (client.isReady) return 'ready'
  return client.isOpen ? 'reconnecting' : 'closed'
}

/** `EVALSHA`, then the Lua (`EVAL`) when the server does not have it yet. */
function scriptCommands (script: RedisScript, keys: Args, args: ReadonlyArray<string | number>): { bySha: Args, byLua: Args } {
  const tail = [String(keys.length), ...keys, ...args.map(String)]
  return { bySha: ['EVALSHA', script.sha, ...tail], byLua: ['EVAL', script.lua, ...tail] }
}

function isNoScript (error: unknown): boolean {
  return typeof (error as Error | null)?.message === 'string' && (error as Error).message.startsWith('NOSCRIPT')
}

/**
 * The Redis store's connection over a node-redis client. Commands go raw
 * (`sendCommand`), so the client's `keyPrefix`, which node-redis applies to
 * its typed commands only, is applied here.
 */
export function nodeRedisConnection (client: NodeRedisClient): RedisConnection {
  const { send, together } = kindOf(client)
  const configured = (client as { readonly options?: { readonly keyPrefix?: unknown } }).options?.keyPrefix
  const keyPrefix = configured === undefined ? '' : String(configured)
  const key = (name: string): string => keyPrefix + name

  async function script (script: RedisScript, keys: Args, args: ReadonlyArray<string | number>): Promise<unknown> {
    const prefixed = keys.map(key)
    const { bySha, byLua } = scriptCommands(script, prefixed, args)
    try {
      return await send(prefixed[0], bySha)
    } catch (error) {
      if (!isNoScript(error)) throw error
      return await send(prefixed[0], byLua)
    }
  }

  return {
    get status () { return statusOf(client) },
    keyPrefix,
    ping: () => send(undefined, ['PING']),
    script,
    get: (name) => send(key(name), ['GET', key(name)]) as Promise<string | null>,
    setIfAbsent: async (name, value, ttlMs) => await send(key(name), ['SET', key(name), value, 'PX', String(ttlMs), 'NX']) === 'OK',
    exists: (names) => send(key(names[0] as string), ['EXISTS', ...names.map(key)]) as Promise<number>,
    scored: async (name) => pairs(await send(key(name), ['ZRANGE', key(name), '0', '-1', 'WITHSCORES'])),
    async removeMembers (name, members) {
      await send(key(name), ['ZREM', key(name), ...members])
    },
    async publish (channel, message) {
      await send(undefined, ['PUBLISH', channel, message])
    },
    async waitAfter (toRun, name, args, replicas, timeoutMs) {
      // The script by its Lua (a NOSCRIPT between it and the WAIT would
      // send the Lua on after the WAIT), then the WAIT, on one connection.
      const { byLua } = scriptCommands(toRun, [key(name)], args)
      const replies = await together(key(name), [byLua, ['WAIT', String(replicas), String(timeoutMs)]])
      return Number(replies[1])
    },
    ...clientEvents(client, UPHEAVALS),
    subscriber: () => subscriberOf(client)
  }
}

/** For failures that are someone else's business (the subscriber's reconnections). */
function ignore (): void {}

function subscriberOf (client: NodeRedisClient): RedisSubscriber | undefined {
  if (typeof client.duplicate !== 'function') return undefined
  const connection = client.duplicate() as NodeRedisSubscriberClient
  // Reconnections are node-redis's business: errors meanwhile must not
  // crash the process, and polling covers the gap.
  connection.on('error', ignore)
  const listeners: Array<(message: string) => void> = []
  // One listener object for every SUBSCRIBE: node-redis keeps a set of them
  // per channel, so subscribing again after a reconnection adds none.
  const heard = (message: string): void => { for (const listener of listeners) listener(message) }
  let connected: Promise<unknown> | undefined
  return {
    get status () { return statusOf(connection) },
    async subscribe (channel) {
      connected ??= connection.connect()
      await connected
      await connection.SUBSCRIBE(channel, heard)
    },
    onMessage (listener) {
      listeners.push(listener)
    },
    onReady (listener) {
      connection.on('ready', listener)
    },
    disconnect () {
      // A Sentinel's destroy() is async, a client's is not.
      Promise.resolve(connection.destroy()).catch(ignore)
    }
  }
}
