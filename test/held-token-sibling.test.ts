import t, { type Test } from 'tap'
import { pgStore, redisStore, type SpotifyToken, type StoreFactory } from '../plugin/index.js'
import { createSpotifyEmulator } from '../plugin/emulator/index.js'
import { build, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } from './helpers/build.js'
import { eventually } from './helpers/eventually.js'
import { newPool, pgRelay, postgresOrSkip } from './helpers/postgres.js'
import { newClient, REDIS_URL, redisOrSkip, replicatedRedis, uniquePrefix } from './helpers/redis.js'
import { tcpRelay, type TcpRelay } from './helpers/relay.js'
import { expireStored, sessionIdOf } from './helpers/sessions.js'

/*
 * Instance A refreshes, Spotify rotates the refresh token, and A's link to
 * the store drops: A holds the only valid refresh token in memory and can
 * neither write it nor release its lock. Instance B, whose link is fine,
 * refreshes with the dead refresh token once A's lock lapses, and Spotify
 * answers invalid_grant. B must not end the session: when A's link comes
 * back, A's held write must land.
 */

/** Two instances' stores over the same data: A's link to it runs through `link`. */
interface Siblings {
  readonly a: StoreFactory
  readonly b: StoreFactory
  readonly link: TcpRelay
}

/**
 * A's short timeouts, so that A's lock lapses in about 2 s (`timeout` + 1 s
 * + twice the store's command timeout), well within B's wait for it
 * (B's `timeout` + 2 s). They are A's only: the login and every other step
 * of the setup go through B, at the usual timeouts, so that a busy machine
 * cannot fail the setup; only A's refresh (the operation under test) runs
 * under them.
 */
const TIMEOUT = 500
const COMMAND_TIMEOUT = 250

async function heldBySibling (t: Test, { a: storeOfA, b: storeOfB, link }: Siblings): Promise<void> {
  const emulator = await createSpotifyEmulator({
    autoApprove: true,
    rotateRefreshTokens: true,
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
  })
  t.teardown(() => emulator.close())
  // B first: its start-up (creating the tables, loading the scripts) runs at
  // the usual timeouts; A's then finds them there.
  const b = await build(t, { sharedEmulator: emulator, plugin: { store: storeOfB } })
  const a = await build(t, { sharedEmulator: emulator, plugin: { store: storeOfA, timeout: TIMEOUT } })
  const store = b.app.spotify.store
  const { jar } = await b.login()
  const sessionId = sessionIdOf(jar)
  await expireStored(store, sessionId)
  const before = await store.get(sessionId) as SpotifyToken
  emulator.control.resetCounters()

  const hold = emulator.control.holdTokenCalls()
  const viaA = a.request(jar, { url: '/spotify/me' })
  await hold.arrived
  await link.stop()
  hold.release()
  const failed = await viaA
  t.equal(failed.statusCode, 503, 'A got the rotated token and could not store it')
  t.equal(emulator.control.counters.refresh_token, 1)

  const doubted = await b.request(jar, { url: '/spotify/me' })
  t.equal(doubted.statusCode, 503, 'B, refused by Spotify, does not end the session')
  t.equal(doubted.json().error.code, 'FST_SPOTIFY_REFRESH_BUSY')
  t.equal(emulator.control.counters.refresh_token, 2, 'B\'s refresh reached Spotify with the dead refresh token')
  t.ok(jar.cookies.has('spotify_session'), 'the cookie is kept')
  t.equal((await store.get(sessionId))?.refreshes, before.refreshes, 'the record survives')
  t.not(store.settled?.(sessionId), false, 'though B\'s store vouches for its reads: the mark A left is what keeps the session')
  t.equal((await b.request(jar, { url: '/spotify/me' })).statusCode, 503, 'still in doubt on the next request')
  t.equal(emulator.control.counters.refresh_token, 2, 'which makes no token call: Spotify has already refused it')

  await link.start()
  await eventually('A\'s held write', async () => (await store.get(sessionId))?.refreshes === before.refreshes + 1, { within: 15_000, every: 50 })
  t.equal((await b.request(jar, { url: '/spotify/me' })).statusCode, 200, 'B serves the session with A\'s token')
  const stored = await store.get(sessionId) as SpotifyToken
  t.not(stored.refreshToken, before.refreshToken, 'the rotated refresh token is the stored one')
  await expireStored(store, sessionId)
  t.equal((await b.request(jar, { url: '/spotify/me' })).statusCode, 200, 'and Spotify takes it at B\'s next refresh')
  t.equal(emulator.control.counters.refresh_token, 3)
}

t.test('Redis: a rotated token held by a sibling whose link dropped is not lost', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  const link = await tcpRelay(t, Number(new URL(REDIS_URL).port || 6379))
  const prefix = uniquePrefix(t, redis)
  await heldBySibling(t, {
    a: redisStore({ client: await newClient(t, `redis://127.0.0.1:${link.port}`), prefix, commandTimeout: COMMAND_TIMEOUT }),
    b: redisStore({ client: await newClient(t), prefix }),
    link
  })
})

t.test('Redis with durability: the same, and B\'s settled store does not end the session either', async (t) => {
  const { master } = await replicatedRedis(t)
  const link = await tcpRelay(t, Number(new URL(master.url).port))
  const durability = { replicas: 1 }
  await heldBySibling(t, {
    a: redisStore({ client: await newClient(t, `redis://127.0.0.1:${link.port}`), durability, commandTimeout: COMMAND_TIMEOUT }),
    b: redisStore({ client: await newClient(t, master.url), durability }),
    link
  })
})

t.test('PostgreSQL: a rotated token held by a sibling whose link dropped is not lost', async (t) => {
  const db = await postgresOrSkip(t)
  if (db === undefined) return
  const link = await pgRelay(t)
  const table = db.table()
  // A's first connection is made here, without A's short bound: on a busy
  // machine a new connection through the relay can take longer than it.
  const poolOfA = newPool(t, { connectionString: link.url })
  await poolOfA.query('SELECT 1')
  await heldBySibling(t, {
    a: pgStore({ pool: poolOfA, table, queryTimeout: COMMAND_TIMEOUT }),
    b: pgStore({ pool: newPool(t), table }),
    link
  })
})
