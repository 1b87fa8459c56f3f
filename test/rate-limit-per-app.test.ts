import t from 'tap'
import { redisStore, type TokenStore } from '../plugin/index.js'
import { createSpotifyEmulator } from '../plugin/emulator/index.js'
import { appName, rateLimitKey } from '../plugin/store/redis/keys.js'
import { sampleSessionId, sampleToken } from '../plugin/testing/index.js'
import { build, CLIENT_ID, CLIENT_SECRET, type Built, REDIRECT_URI } from './helpers/build.js'
import { eventually } from './helpers/eventually.js'
import { newClient, redisOrSkip, uniquePrefix } from './helpers/redis.js'

/*
 * Spotify counts its rate limit per client id. Two apps with different
 * client ids on one Redis prefix (staging and production on the default
 * prefix) must not stop each other; instances of one client id share the
 * window.
 */

const OTHER_ID = 'another-spotify-app'
const OTHER_SECRET = 'another-client-secret-that-must-never-leak'

function windowOf (built: Built): number {
  return (built.app.spotify.store.rateLimit as NonNullable<TokenStore['rateLimit']>).until()
}

t.test('the rate-limit window belongs to one Spotify app (its client id), not to the prefix', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  const prefix = uniquePrefix(t, redis)
  const emulator = await createSpotifyEmulator({
    autoApprove: true,
    clients: [
      { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] },
      { clientId: OTHER_ID, clientSecret: OTHER_SECRET, redirectUris: [REDIRECT_URI] }
    ]
  })
  t.teardown(() => emulator.close())
  /** An instance of the app `clientId`, with a Redis client of its own, on the shared prefix. */
  const instance = async (clientId: string, clientSecret: string): Promise<Built> =>
    await build(t, { sharedEmulator: emulator, plugin: { clientId, clientSecret, store: redisStore({ client: await newClient(t), prefix }), retry: { limit: 0 } } })
  const a = await instance(CLIENT_ID, CLIENT_SECRET)
  const sibling = await instance(CLIENT_ID, CLIENT_SECRET)
  const other = await instance(OTHER_ID, OTHER_SECRET)
  const { jar: jarA } = await a.login()
  const { jar: jarOther } = await other.login()

  emulator.control.rateLimitApiCalls(1, 60)
  t.equal((await a.request(jarA, { url: '/spotify/me' })).statusCode, 429, 'app a is rate-limited')
  const until = windowOf(a)
  await eventually('the window to reach the instance of the same client id', () => windowOf(sibling) === until)
  t.pass('an instance with the same client id shares the window')
  t.equal(Number(await redis.get(rateLimitKey(prefix, appName(CLIENT_ID)))), until, 'stored under the client id\'s name')
  t.equal(await redis.get(rateLimitKey(prefix, appName(OTHER_ID))), null, 'nothing stored under the other app\'s name')

  // Messages on one channel arrive in the order they were published: once
  // the other app hears a write a published after its 429, it has had every
  // chance to (wrongly) take the window.
  const id = sampleSessionId()
  await a.app.spotify.store.set(id, sampleToken(1))
  const heard = other.app.spotify.store.watch?.(id, AbortSignal.timeout(10_000))
  await a.app.spotify.store.update(id, sampleToken(1), sampleToken(1, 1))
  await heard
  t.equal(windowOf(other), 0, 'the other app never took the window')
  emulator.control.resetCounters()
  const response = await other.request(jarOther, { url: '/spotify/me' })
  t.equal(response.statusCode, 200, 'the other app still reaches Spotify')
  t.equal(emulator.control.counters.api, 1)
  t.equal((await sibling.request(jarA, { url: '/spotify/me' })).statusCode, 429, 'while app a\'s sibling is held back')
  t.equal(emulator.control.counters.api, 1, 'without calling Spotify')
})

t.test('the window\'s name is a hash of the client id: stable, distinct, and no id in it', async (t) => {
  t.equal(appName(CLIENT_ID), appName(CLIENT_ID))
  t.not(appName(CLIENT_ID), appName(OTHER_ID))
  t.notOk(rateLimitKey('p:', appName(CLIENT_ID)).includes(CLIENT_ID))
  t.match(appName(CLIENT_ID), /^[A-Za-z0-9_-]{16}$/)
})
