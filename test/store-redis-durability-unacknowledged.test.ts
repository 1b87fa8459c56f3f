import t from 'tap'
import { redisStore, type SpotifyToken } from '../plugin/index.js'
import { build } from './helpers/build.js'
import { inSync, replicatedRedis } from './helpers/redis.js'
import { expireStored, sessionIdOf } from './helpers/sessions.js'

/*
 * Redis durability when a replica stops acknowledging: each case waits out
 * the store's WAIT (1500 ms, as many tries as the write's time budget
 * allows), so they live apart from test/store-redis-durability.test.ts and
 * run beside it.
 */

t.test('a replica that does not acknowledge: 503, the token is kept, and confirmed once the replica is back', async (t) => {
  const { replica, masterClient } = await replicatedRedis(t)
  // The default wait: a shorter one can miss a healthy replica's
  // acknowledgement, which comes at the latest once a second.
  const store = redisStore({ client: masterClient, durability: { replicas: 1 } })
  const built = await build(t, { plugin: { store } })
  built.emulator.control.setRotateRefreshTokens(true)
  const { jar } = await built.login()
  const sessionId = sessionIdOf(jar)
  await expireStored(built.app.spotify.store, sessionId)
  const before = await built.app.spotify.store.get(sessionId) as SpotifyToken
  built.emulator.control.resetCounters()
  // The refresh's mark is acknowledged before Spotify is called; the
  // replica stops acknowledging once the call is under way.
  const hold = built.emulator.control.holdTokenCalls()
  const refreshing = built.request(jar, { url: '/spotify/me' })
  await hold.arrived
  replica.freeze()
  hold.release()
  const failed = await refreshing
  t.equal(failed.statusCode, 503)
  t.ok(built.logs.some((line) => line.includes('0 of 1 replicas acknowledged')), 'logged why')
  replica.thaw()
  await inSync(masterClient)
  const ok = await built.request(jar, { url: '/spotify/me' })
  t.equal(ok.statusCode, 200, 'the held token is confirmed on the replica')
  t.equal(built.emulator.control.counters.refresh_token, 1, 'one refresh')
  t.equal((await built.app.spotify.store.get(sessionId))?.refreshes, before.refreshes + 1)
})

t.test('a replica that does not acknowledge a refresh\'s mark: 503, and Spotify is not called', async (t) => {
  const { replica, masterClient } = await replicatedRedis(t)
  const store = redisStore({ client: masterClient, durability: { replicas: 1 } })
  const built = await build(t, { plugin: { store } })
  built.emulator.control.setRotateRefreshTokens(true)
  const { jar } = await built.login()
  await expireStored(built.app.spotify.store, sessionIdOf(jar))
  built.emulator.control.resetCounters()
  replica.freeze()
  const failed = await built.request(jar, { url: '/spotify/me' })
  t.equal(failed.statusCode, 503)
  t.equal(failed.json().error.code, 'FST_SPOTIFY_STORE_UNAVAILABLE')
  t.equal(built.emulator.control.counters.refresh_token, 0, 'no rotation the replica does not know was attempted')
  replica.thaw()
  await inSync(masterClient)
  t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 200)
  t.equal(built.emulator.control.counters.refresh_token, 1)
})
