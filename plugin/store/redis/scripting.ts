import { InvalidOptionError } from '../../errors.js'
import { summaryOf } from '../../failures.js'
import { within } from '../kit/within.js'
import type { RedisConnection } from './connection.js'
import { isConnectionFailure } from './failures.js'
import { PROBE } from './scripts.js'

/**
 * Checks, at register time, that the server runs the store's Lua scripts
 * (every write of the store is one). Valkey 9.1 moved Lua into a loadable
 * module, and operators rename `EVAL` away or leave `@scripting` out of an
 * ACL: without this check every script would fail at first use, far from
 * the cause. A server that does not answer is not a scripting problem: that
 * failure says it cannot reach Redis.
 */
export async function checkScripting (connection: RedisConnection, commandTimeout: number): Promise<void> {
  try {
    // Twice: a client sends a script's Lua (EVAL) the first time and its
    // SHA (EVALSHA) after (ioredis), or the SHA first and the Lua on a miss;
    // either way both commands have answered.
    await within('Redis', commandTimeout, async () => {
      await connection.script(PROBE, [], [])
      await connection.script(PROBE, [], [])
    })
  } catch (cause) {
    const message = (cause as Error).message
    if (isConnectionFailure(cause)) {
      throw new Error(`fastify-spotify-auth: the Redis store cannot reach Redis (${message})`, { cause })
    }
    throw new InvalidOptionError(`redisStore needs Lua scripting (EVAL and EVALSHA), and the server refused it (${message}). ` +
      'On Valkey 9.1 or later, load its Lua module (loadmodule in valkey.conf); where EVAL is renamed or an ACL leaves out @scripting, allow both commands; ' +
      'or keep sessions in PostgreSQL (pgStore)', { cause: summaryOf(cause) })
  }
}
