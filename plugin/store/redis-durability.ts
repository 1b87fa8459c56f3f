import { within } from './kit/within.js'
import { keySlot } from './key-slot.js'
import type { SpotifyToken, TokenStore } from './types.js'

/** `redisStore`'s `durability` option: how sure a write must be before it counts. */
export interface RedisDurabilityOptions {
  /**
   * How many replicas must acknowledge a session's write (login, refresh)
   * before it counts as stored (Redis `WAIT`). Fewer in time: the write
   * fails (503), and a refreshed token stays in the process's memory until a
   * write is acknowledged.
   */
  replicas: number
  /** Longest wait for the acknowledgements, in ms. Default 500. */
  timeout?: number
  /**
   * After the client lost a connection or saw the cluster change (or a
   * write went unacknowledged), how long
   * Spotify's `invalid_grant` does not delete a session (the request gets a
   * 503 instead), in ms: another process may still hold the rotated token
   * that the failover lost, and be about to write it back. Default 10000.
   */
  settle?: number
}

/** The parts of an ioredis client (`Redis` or `Cluster`) durability uses beyond the store's. */
interface DurableClient {
  readonly status: string
  call (command: string, ...args: Array<string | number>): Promise<unknown>
  defineCommand (name: string, definition: { lua: string, numberOfKeys: number }): void
  on? (event: string, listener: (...args: unknown[]) => void): unknown
  readonly isCluster?: boolean
}

/** What an ioredis `Cluster` adds: who owns which slot, and a connection to each master. */
interface ClusterClient extends DurableClient {
  readonly slots: string[][]
  readonly options: { keyPrefix?: string }
  nodes (role: 'master'): Array<DurableClient & { options: { host?: string, port?: number } }>
}

/**
 * A write on the current connection to the record's node, so that `WAIT`
 * covers the record: `WAIT` counts the writes of its own connection only,
 * and after a reconnect (or when the record was written by an earlier try
 * whose answer was lost) this connection has written nothing yet. A record
 * that is gone is left gone.
 */
const TOUCH = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'w', ARGV[1]) end
return 1`

/** Events after which a read may no longer show every write: a lost connection, a changed cluster. */
const UPHEAVALS = ['close', 'ready', '+node', '-node', 'node error']

function isSame (token: SpotifyToken | undefined, next: SpotifyToken): boolean {
  return token !== undefined && token.refreshes === next.refreshes && token.accessToken === next.accessToken
}

/** Checks `durability` once: a clear error naming the option, never a half-working store. */
export function checkDurability (value: unknown): Required<RedisDurabilityOptions> | undefined {
  if (value === undefined) return undefined
  const options = value as RedisDurabilityOptions | null
  const fail = (detail: string): never => { throw new TypeError(`fastify-spotify-auth: redisStore options.durability${detail}`) }
  if (typeof options !== 'object' || options === null) fail(' must be an object such as { replicas: 1 }')
  const { replicas, timeout = 500, settle = 10_000 } = options as RedisDurabilityOptions
  if (!Number.isInteger(replicas) || replicas < 1) fail('.replicas must be a positive integer')
  if (!Number.isInteger(timeout) || timeout <= 0) fail('.timeout must be a positive integer of ms')
  if (!Number.isInteger(settle) || settle < 0) fail('.settle must be a non-negative integer of ms')
  return { replicas, timeout, settle }
}

/**
 * Makes a Redis store's session writes durable: after a login's or a
 * refresh's write, `WAIT` on the connection that took it (on a Cluster, the
 * node owning the record's slot) until `replicas` replicas have it; fewer
 * acknowledgements make the write fail, so that the plugin keeps the
 * rotated token in memory and writes it again (an update that finds its own
 * token already stored is confirmed again, not refused). It also says when
 * the store is not settled (`settled`): for `settle` ms after any
 * reconnect, cluster change or unacknowledged write.
 *
 * `keyOf` names a session's record (the key its writes touch); `run` bounds
 * a command the way the store does (`commandTimeout`).
 */
export function durableStore (store: TokenStore, client: DurableClient, keyOf: (sessionId: string) => string,
  options: Required<RedisDurabilityOptions>, run: <T>(operation: () => Promise<T>) => Promise<T>, commandTimeout: number): TokenStore {
  const { replicas, timeout, settle } = options
  client.defineCommand('spotifyAuthTouch', { lua: TOUCH, numberOfKeys: 1 })
  const touch = (client as unknown as Record<string, (key: string, stamp: number) => Promise<unknown>>).spotifyAuthTouch as (key: string, stamp: number) => Promise<unknown>
  let upheaval = Number.NEGATIVE_INFINITY
  for (const event of UPHEAVALS) client.on?.(event, () => { upheaval = Date.now() })

  /** The connection that takes writes of `key`: the client itself, or on a Cluster the slot owner's. */
  function nodeOf (key: string): DurableClient {
    if (client.isCluster !== true) return client
    const cluster = client as ClusterClient
    const owner = cluster.slots[keySlot(`${cluster.options.keyPrefix ?? ''}${key}`)]?.[0]
    const node = cluster.nodes('master').find((candidate) => `${candidate.options.host}:${candidate.options.port}` === owner)
    if (node === undefined) throw new Error('no known Redis Cluster node owns the session\'s slot')
    return node
  }

  async function confirm (sessionId: string, again: boolean): Promise<void> {
    const key = keyOf(sessionId)
    const node = nodeOf(key)
    if (again) await run(() => touch.call(client, key, Date.now()))
    const acks = await within('Redis', timeout + commandTimeout, () => node.call('WAIT', replicas, timeout)) as number
    if (acks < replicas) {
      // Writes are not durable now (a promoted master without its replica
      // yet): the tokens they carried sit in some process's memory, so this
      // store does not vouch for its reads either.
      upheaval = Date.now()
      throw new Error(`Redis: ${acks} of ${replicas} replicas acknowledged the write within ${timeout} ms`)
    }
  }

  return {
    ...store,
    async set (sessionId, token) {
      await store.set(sessionId, token)
      await confirm(sessionId, false)
    },
    async update (sessionId, previous, next) {
      if (!await store.update(sessionId, previous, next)) {
        // An earlier try's write may have landed and only its WAIT failed:
        // confirm it rather than refuse it (that would drop the token).
        if (!isSame(await store.get(sessionId), next)) return false
        await confirm(sessionId, true)
        return true
      }
      await confirm(sessionId, false)
      return true
    },
    settled () {
      return Date.now() - upheaval >= settle
    }
  }
}
