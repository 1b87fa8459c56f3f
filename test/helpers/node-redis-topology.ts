import type { Test } from 'tap'
import { redisStore, type NodeRedisClient, type TokenStore } from '../../plugin/index.js'
import { createSpotifyEmulator } from '../../plugin/emulator/index.js'
import { build, type Built, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } from './build.js'
import { expireStored, sessionIdOf, storm } from './sessions.js'

/*
 * What the node-redis Cluster and Sentinel suites (test/topology/) share:
 * stores on a client of theirs, each on a prefix of its own, and three app
 * instances sharing one.
 */

export const OLD_SECRET = 'an-older-session-secret-of-32-chars!!'

let prefixes = 0
function prefix (): string {
  return `node-redis-${++prefixes}:`
}

/** A store on `client`, on a new prefix, closed at `t`'s teardown. */
export async function openNodeRedisStore (t: Test, client: NodeRedisClient, secrets: string[], durability?: { replicas: number }): Promise<TokenStore> {
  const store = await redisStore({ client, prefix: prefix(), commandTimeout: 1000, ...(durability === undefined ? {} : { durability }) })({ secrets, clientId: CLIENT_ID })
  t.teardown(async () => { await store.close?.() })
  return store
}

/** Three instances, each with its own client from `connect`, on one prefix: 60 requests on an expired session make one refresh. */
export async function oneRefreshPerStorm (t: Test, connect: () => Promise<NodeRedisClient>): Promise<void> {
  const emulator = await createSpotifyEmulator({ autoApprove: true, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }] })
  t.teardown(() => emulator.close())
  const shared = prefix()
  const instances: Built[] = []
  for (let i = 0; i < 3; i++) instances.push(await build(t, { sharedEmulator: emulator, plugin: { store: redisStore({ client: await connect(), prefix: shared, commandTimeout: 1000 }) } }))
  emulator.control.setRotateRefreshTokens(true)
  const { jar } = await (instances[0] as Built).login()
  await expireStored((instances[0] as Built).app.spotify.store, sessionIdOf(jar))
  emulator.control.resetCounters()
  const responses = await storm(instances, jar, 60)
  t.same(responses.map((r) => r.statusCode), Array(60).fill(200))
  t.equal(emulator.control.counters.refresh_token, 1, 'one refresh')
}
