import t from 'tap'
import { redisStore, type SpotifyToken } from '../plugin/index.js'
import { build } from './helpers/build.js'
import { newClient, nextReady, privateRedis } from './helpers/redis.js'
import { expireStored, sessionIdOf } from './helpers/sessions.js'

t.test('Redis stopped while a rotating refresh is at Spotify, restarted later: the rotated token is written then', async (t) => {
  // Every write on disk at once (in the server's own folder, kept across the
  // restart), so that the restart brings the records back.
  const redis = await privateRedis(t, ['--appendonly', 'yes', '--appendfsync', 'always'])
  const client = await newClient(t, redis.url, { retryStrategy: () => 50 })
  const built = await build(t, { plugin: { store: redisStore({ client }) } })
  built.emulator.control.setRotateRefreshTokens(true)
  const { jar } = await built.login()
  const sessionId = sessionIdOf(jar)
  const store = built.app.spotify.store
  await expireStored(store, sessionId)
  const before = await store.get(sessionId) as SpotifyToken
  built.emulator.control.resetCounters()

  const hold = built.emulator.control.holdTokenCalls()
  const pending = built.request(jar, { url: '/spotify/me' })
  await hold.arrived
  await redis.stop()
  hold.release()
  const failed = await pending
  t.equal(failed.statusCode, 503, 'the write cannot be made: 503')
  t.ok(built.logs.some((line) => line.includes('a refreshed token could not be stored')))
  t.equal(built.emulator.control.counters.refresh_token, 1, 'Spotify rotated the refresh token')

  const ready = nextReady(client)
  await redis.start()
  await ready
  const ok = await built.request(jar, { url: '/spotify/me' })
  t.equal(ok.statusCode, 200, 'the held token is written and used')
  const stored = await store.get(sessionId) as SpotifyToken
  t.equal(stored.refreshes, before.refreshes + 1)
  t.not(stored.refreshToken, before.refreshToken, 'the rotated refresh token is the stored one')
  t.equal(built.emulator.control.counters.refresh_token, 1, 'no refresh with the dead one')
  await expireStored(store, sessionId)
  // The lock of the first refresh could not be released (Redis was down) and
  // came back with the data: the next refresh waits for it to expire (503
  // REFRESH_BUSY meanwhile), then runs with the rotated refresh token.
  let again = await built.request(jar, { url: '/spotify/me' })
  for (let i = 0; i < 5 && again.json()?.error?.code === 'FST_SPOTIFY_REFRESH_BUSY'; i++) again = await built.request(jar, { url: '/spotify/me' })
  t.equal(again.statusCode, 200, 'and Spotify takes it at the next refresh')
  t.equal(built.emulator.control.counters.refresh_token, 2)
})
