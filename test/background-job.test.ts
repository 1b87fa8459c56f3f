import t from 'tap'
import { redisStore, type TokenStore } from '../plugin/index.js'
import { build, type Built, CookieJar } from './helpers/build.js'
import { newClient, redisOrSkip, uniquePrefix } from './helpers/redis.js'

const SESSIONS = 200
/** Sessions the job and their browsers go through at once. */
const BATCH = 25

/** Logs in `count` browsers (in batches, to spare the emulator) and returns their jars and session ids. */
async function loginMany (built: Built, count: number): Promise<Array<{ jar: CookieJar, id: string }>> {
  const out: Array<{ jar: CookieJar, id: string }> = []
  while (out.length < count) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, count - out.length) }, () => built.login(new CookieJar())))
    for (const { jar, callback } of batch) {
      const cookie = jar.cookies.get('spotify_session')
      // Says why, should a login ever fail here (the error page names no secret).
      if (cookie === undefined) throw new Error(`a login failed: ${callback.statusCode} ${callback.body}`)
      out.push({ jar, id: cookie.split('.')[0] as string })
    }
  }
  return out
}

async function expireAll (store: TokenStore, ids: string[]): Promise<void> {
  await Promise.all(ids.map(async (id) => {
    const token = await store.get(id)
    if (token === undefined || !await store.update(id, token, { ...token, expiresAt: Math.floor(Date.now() / 1000) - 1, refreshes: token.refreshes + 1 })) {
      throw new Error('could not expire a session')
    }
  }))
}

/**
 * The job and the browsers at once: every session's token through its
 * handle, and through the proxy, racing each other. A batch of sessions at a
 * time, as a job would go through them: all 200 at once put 200 token calls
 * on the emulator in this process, and on a busy machine the last ones
 * outlived the plugin's 2 s upstream timeout (a 504, whatever the race did).
 */
async function jobBesideBrowsers (job: Built, browsers: Built[], sessions: Array<{ jar: CookieJar, id: string }>) {
  const tokens: Array<Awaited<ReturnType<ReturnType<Built['app']['spotify']['session']>['getToken']>>> = []
  const responses: Awaited<ReturnType<Built['app']['inject']>>[] = []
  for (let start = 0; start < sessions.length; start += BATCH) {
    const batch = sessions.slice(start, start + BATCH)
    const [batchTokens, batchResponses] = await Promise.all([
      Promise.all(batch.map(({ id }) => job.app.spotify.session(id).getToken())),
      Promise.all(batch.map(({ jar }, i) => (browsers[(start + i) % browsers.length] as Built).app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })))
    ])
    tokens.push(...batchTokens)
    responses.push(...batchResponses)
  }
  return [tokens, responses] as const
}

t.test(`a job refreshing ${SESSIONS} expired sessions while their browsers call the proxy: one token call each`, async (t) => {
  const built = await build(t, { plugin: { maxSessionsPerUser: false } })
  const sessions = await loginMany(built, SESSIONS)
  await expireAll(built.app.spotify.store, sessions.map((s) => s.id))
  built.emulator.control.resetCounters()
  const [tokens, responses] = await jobBesideBrowsers(built, [built], sessions)
  t.equal(built.emulator.control.counters.refresh_token, SESSIONS, 'one refresh per session, never two')
  t.ok(tokens.every((token) => token !== null && token.refreshes >= 2), 'the job got every refreshed token')
  t.ok(responses.every((r) => r.statusCode === 200), 'every browser call went through')
})

t.test('the same across three instances sharing Redis', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  const prefix = uniquePrefix(t, redis)
  const options = async () => ({ maxSessionsPerUser: false as const, store: redisStore({ client: await newClient(t), prefix }) })
  const job = await build(t, { plugin: await options() })
  const browsers = [await build(t, { sharedEmulator: job.emulator, plugin: await options() }), await build(t, { sharedEmulator: job.emulator, plugin: await options() })]
  const sessions = await loginMany(browsers[0] as Built, SESSIONS)
  await expireAll(job.app.spotify.store, sessions.map((s) => s.id))
  job.emulator.control.resetCounters()
  const [tokens, responses] = await jobBesideBrowsers(job, browsers, sessions)
  t.equal(job.emulator.control.counters.refresh_token, SESSIONS, 'one refresh per session across the cluster')
  t.ok(tokens.every((token) => token !== null))
  t.ok(responses.every((r) => r.statusCode === 200))
})
