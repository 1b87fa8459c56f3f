import t from 'tap'
import { redisStore, type TokenStore } from '../plugin/index.js'
import { sealedRecords } from '../plugin/store/kit/records.js'
import { appName, rateLimitKey } from '../plugin/store/redis/keys.js'
import { sampleSessionId, sampleToken } from '../plugin/testing/index.js'
import { CLIENT_ID, SECRET } from './helpers/build.js'
import { eventually } from './helpers/eventually.js'
import { newClient, redisOrSkip, uniquePrefix } from './helpers/redis.js'

/*
 * The attack: anyone allowed to PUBLISH on the store's channel (Redis 6 and
 * 7 allow every channel by default, whatever the key rights) sends a window
 * message with no window key behind it, hoping to stop every instance's Web
 * API calls for a day. A window is learnt from its key only.
 */

t.test('a forged rate-limit message blocks nothing', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  const prefix = uniquePrefix(t, redis)
  const store = await redisStore({ client: await newClient(t), prefix })({ secrets: [SECRET], clientId: CLIENT_ID })
  t.teardown(() => store.close?.())
  const window = store.rateLimit as NonNullable<TokenStore['rateLimit']>
  const channel = `${prefix}events`
  const app = appName(CLIENT_ID)
  const in23h = Date.now() + 23 * 3600_000

  // Every shape a forger might try: the old one, ours with a time, ours bare.
  for (const forged of [`r ${in23h}`, `r ${app} ${in23h}`, `r ${app}`]) await redis.publish(channel, forged)
  // Messages on one channel arrive in order, and the store's reads go out
  // on one connection in order: once this session news has arrived and a
  // read sent after it has answered, every re-read the forgeries caused has
  // answered too.
  const id = sampleSessionId()
  await store.set(id, sampleToken(1))
  // Session news names a session by its record's name.
  const heard = store.watch?.(id, AbortSignal.timeout(10_000))
  await redis.publish(channel, `s ${sealedRecords([SECRET]).names(id)[0] as string}`)
  await heard
  await store.get(id)
  t.equal(window.until(), 0, 'no window: nothing stands behind the messages')

  // The same message with the key behind it (as the store writes it) does open the window.
  const until = Date.now() + 60_000
  await redis.set(rateLimitKey(prefix, app), String(until), 'PXAT', until)
  await redis.publish(channel, `r ${app}`)
  await eventually('the window read from its key', () => window.until() === until)
  t.pass('a real window is learnt from the store')
})
