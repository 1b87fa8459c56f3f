import Fastify from 'fastify'
import t from 'tap'
import spotifyAuth, { redisStore } from '../plugin/index.js'
import { CLIENT_ID, SECRET } from './helpers/build.js'
import { newClient, privateRedis, redisOrSkip } from './helpers/redis.js'

/*
 * A server that cannot run Lua (Valkey 9.1 or later without its Lua module,
 * EVAL renamed away, an ACL without @scripting) fails `register` with the
 * cause and the fix, not every login later with a 503.
 */

/** Registers the plugin over `store`; the error `ready()` fails with. */
async function registerError (store: ReturnType<typeof redisStore>): Promise<(Error & { code?: string }) | undefined> {
  const app = Fastify()
  const error = await app.register(spotifyAuth, { clientId: CLIENT_ID, clientSecret: 's', redirectUri: 'http://127.0.0.1:5543/callback', secret: SECRET, store })
    .ready().then(() => undefined, (err: Error) => err)
  await app.close()
  return error
}

t.test('the Redis store checks at register that scripting works', async (t) => {
  if (await redisOrSkip(t) === undefined) return

  await t.test('EVAL and EVALSHA renamed away: FST_SPOTIFY_INVALID_OPTION naming the cause and the fix', async (t) => {
    const server = await privateRedis(t, [], 'rename-command EVAL ""\nrename-command EVALSHA ""\n')
    const client = await newClient(t, server.url)
    await t.rejects(client.call('EVAL', 'return 1', 0), /unknown command/, 'the server really has no EVAL')
    const error = await registerError(redisStore({ client }))
    t.equal(error?.code, 'FST_SPOTIFY_INVALID_OPTION')
    t.match(error?.message, /redisStore needs Lua scripting \(EVAL and EVALSHA\), and the server refused it \(ERR unknown command 'eval/, 'the cause')
    t.match(error?.message, /load its Lua module/, 'the fix on Valkey')
    t.match(error?.message, /pgStore/, 'or another store')
    t.equal(client.status, 'ready', 'the client is left as it was')
  })

  for (const command of ['EVAL', 'EVALSHA']) {
    await t.test(`${command} alone renamed away: found too (a client may send either first)`, async (t) => {
      const server = await privateRedis(t, [], `rename-command ${command} ""\n`)
      const error = await registerError(redisStore({ client: await newClient(t, server.url) }))
      t.equal(error?.code, 'FST_SPOTIFY_INVALID_OPTION')
      t.match(error?.message, new RegExp(`the server refused it \\(ERR unknown command '${command.toLowerCase()}'`))
    })
  }

  await t.test('a server that does not answer the check is unreachable, not without scripting', async (t) => {
    const server = await privateRedis(t)
    const client = await newClient(t, server.url)
    server.freeze()
    t.teardown(() => { server.thaw() })
    const error = await registerError(redisStore({ client, commandTimeout: 200 }))
    t.not(error?.code, 'FST_SPOTIFY_INVALID_OPTION')
    t.match(error?.message, /the Redis store cannot reach Redis \(Redis did not answer within 200 ms\)/)
  })
})
