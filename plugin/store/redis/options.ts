import { optionChecks, optionRule, optionRules } from '../kit/options.js'
import type { RedisConnection } from './connection.js'
import type { RedisDurabilityOptions } from './durability.js'
import { ioredisConnection, isIoredis, type IoredisClient } from './ioredis.js'
import { isNodeRedis, nodeRedisConnection, type NodeRedisClient } from './node-redis.js'

/**
 * A Redis client the store accepts: an ioredis `Redis` (also with
 * `sentinels`) or `Cluster`, or the client of `@fastify/redis`; or a
 * node-redis client (`createClient`, `createCluster`, `createSentinel`),
 * connected.
 */
export type RedisClient = IoredisClient | NodeRedisClient

/** `redisStore`'s options. */
export interface RedisStoreOptions {
  /** A connected client. The store never closes it: it is yours. */
  client: RedisClient
  /**
   * Prefix of every key the store writes. Default `spotify-auth:`. On Redis
   * Cluster keep braces out of it (and out of the client's `keyPrefix`):
   * a key's first `{…}` is its hash tag, and each session's keys carry their
   * own.
   */
  prefix?: string
  /**
   * How long a session lives after its last write (login or refresh), in ms.
   * Default: until Spotify stops accepting its refresh token
   * (`refreshTokenExpiresAt`).
   */
  ttl?: number
  /** Longest wait for one Redis command, in ms, before the request gets 503. Default 2000. */
  commandTimeout?: number
  /**
   * Waits for replicas to acknowledge every login and refresh (`WAIT`), so
   * that a failover cannot lose a rotated refresh token. Default: off (a
   * write counts once the master has it). See "Durability" in the README.
   */
  durability?: RedisDurabilityOptions
  /**
   * Subscribe on a connection of the store's own (`client.duplicate()`,
   * closed when the plugin closes) to share the app's rate-limit window
   * and to hear of refreshes at once. Default true; `false` where pub/sub
   * is not available: each instance then keeps its own window, and waiters
   * poll.
   */
  pubsub?: boolean
  /**
   * After a command fails for want of a connection or a master (timeout,
   * `CLUSTERDOWN`, `TRYAGAIN`, `MOVED` loops, `READONLY`, `Connection is
   * closed`…), answer 503 at once for this many ms instead of sending more
   * commands that would hang: a Cluster client stays `ready` through a
   * failover. Default 1000; 0 turns it off.
   */
  failFastFor?: number
}

/** `redisStore`'s options, checked, with their defaults. */
export interface RedisSettings {
  readonly connection: RedisConnection
  readonly prefix: string
  readonly ttl: number | undefined
  readonly commandTimeout: number
  readonly durability: Required<RedisDurabilityOptions> | undefined
  readonly pubsub: boolean
  readonly failFastFor: number
}

const option = optionChecks('redisStore')
const CLIENT = optionRule((value): value is RedisClient => isIoredis(value) || isNodeRedis(value), 'must be an ioredis or node-redis client')

/** The store's connection over `client`, whichever library made it (told apart by what it has). */
function connectionOf (client: RedisClient): RedisConnection {
  return isIoredis(client) ? ioredisConnection(client) : nodeRedisConnection(client)
}

/** Checks `redisStore`'s options once: a clear error naming the option, never a half-working store. */
export function redisSettings (options: RedisStoreOptions): RedisSettings {
  return {
    connection: connectionOf(option.required('client', options.client, CLIENT)),
    prefix: option.withDefault('prefix', options.prefix, optionRules.string, 'spotify-auth:'),
    ttl: option.optional('ttl', options.ttl, optionRules.positiveIntegerMs),
    commandTimeout: option.withDefault('commandTimeout', options.commandTimeout, optionRules.positiveMs, 2000),
    durability: durabilitySettings(options.durability),
    failFastFor: option.withDefault('failFastFor', options.failFastFor, optionRules.msOrZero, 1000),
    pubsub: option.withDefault('pubsub', options.pubsub, optionRules.boolean, true)
  }
}

function durabilitySettings (value: unknown): Required<RedisDurabilityOptions> | undefined {
  const durability = option.optional('durability', value, optionRules.object('{ replicas: 1 }'))
  if (durability === undefined) return undefined
  return {
    replicas: option.required('durability.replicas', durability.replicas, optionRules.positiveInteger),
    timeout: option.withDefault('durability.timeout', durability.timeout, optionRules.positiveIntegerMs, 1500),
    settle: option.withDefault('durability.settle', durability.settle, optionRules.integerMsOrZero, 10_000)
  }
}
