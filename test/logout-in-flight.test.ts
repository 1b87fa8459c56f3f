/**
 * A request in flight across a logout must never save the ended session
 * again: neither the refresh it started before the logout (its write comes
 * after the record is gone) nor a Web API call that was already on its way
 * (its 401 must not renew anything). The record's version binds every
 * write after login: an update finds no record and writes nothing. Proved
 * for each way in (the proxy, `request.spotify.api`, the SDK adapter and a
 * handle from `fastify.spotify.session(id)`), on each store.
 */
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { memoryStore, pgStore, redisStore, type SpotifyToken, type StoreFactory, type TokenStore } from '../plugin/index.js'
import { spotifySdk } from '../plugin/sdk/index.js'
import { build, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, type Built, type CookieJar } from './helpers/build.js'
import { start } from './helpers/emulator-helpers.js'
import { heldApi, type HeldApi } from './helpers/held-api.js'
import { newPool, postgresOrSkip } from './helpers/postgres.js'
import { newClient, redisOrSkip, uniquePrefix } from './helpers/redis.js'
import { expireStored, sessionIdOf } from './helpers/sessions.js'

/** A write the store was asked for: `written` is what it answered. */
interface Write {
  readonly op: 'set' | 'update'
  readonly sessionId: string
  readonly token: SpotifyToken
  readonly written: boolean
}

/** The store as the plugin uses it, with every write it is asked for noted in `writes`. */
function noting (store: TokenStore, writes: Write[]): TokenStore {
  return {
    ...store,
    async set (sessionId, token) {
      await store.set(sessionId, token)
      writes.push({ op: 'set', sessionId, token, written: true })
    },
    async update (sessionId, previous, next) {
      const written = await store.update(sessionId, previous, next)
      writes.push({ op: 'update', sessionId, token: next, written })
      return written
    }
  }
}

type StoreOf = (t: Test) => Promise<TokenStore | StoreFactory | undefined>

const stores: Record<string, StoreOf> = {
  memory: async () => memoryStore(),
  Redis: async (t) => {
    const redis = await redisOrSkip(t)
    if (redis === undefined) return undefined
    return redisStore({ client: await newClient(t), prefix: uniquePrefix(t, redis) })
  },
  PostgreSQL: async (t) => {
    const db = await postgresOrSkip(t)
    if (db === undefined) return undefined
    return pgStore({ pool: newPool(t), table: db.table() })
  }
}

/** What a call through one way in came to. */
interface Outcome {
  readonly status: number
  /** The error code of a refusal, if any. */
  readonly code: string | undefined
  /** Whether the answer gave the browser a session cookie again. */
  readonly setsSession: boolean
}

interface Rig {
  readonly built: Built
  readonly api: HeldApi
  readonly writes: Write[]
}

function fromReply (response: LightMyRequestResponse): Outcome {
  const body = response.json<{ code?: string, error?: { code?: string } }>()
  const cookies = response.cookies as Array<{ name: string, value: string, maxAge?: number }>
  return {
    status: response.statusCode,
    code: body.code ?? body.error?.code,
    setsSession: cookies.some((cookie) => cookie.name === 'spotify_session' && cookie.value !== '' && cookie.maxAge !== 0)
  }
}

/** The four ways a call reaches the Web API as a session. */
const waysIn: Record<string, (rig: Rig, jar: CookieJar) => Promise<Outcome>> = {
  proxy: async ({ built }, jar) => fromReply(await built.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })),
  'the got client': async ({ built }, jar) => fromReply(await built.app.inject({ url: '/via-got', headers: { cookie: jar.header } })),
  'the SDK adapter': async ({ built }, jar) => fromReply(await built.app.inject({ url: '/via-sdk', headers: { cookie: jar.header } })),
  'a session handle': async ({ built }, jar) => {
    try {
      await built.app.spotify.session(sessionIdOf(jar)).api.get('me').json()
      return { status: 200, code: undefined, setsSession: false }
    } catch (err) {
      const { statusCode, code } = err as { statusCode: number, code: string }
      return { status: statusCode, code, setsSession: false }
    }
  }
}

async function rig (t: Test, store: TokenStore | StoreFactory): Promise<Rig> {
  const writes: Write[] = []
  const watched: StoreFactory = async (context) => noting(typeof store === 'function' ? await store(context) : store, writes)
  const emulator = await start(t, { autoApprove: true, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }] })
  // The Web API behind a door that can hold a call; the emulator behind it.
  const api = await heldApi(t, emulator.url)
  const built = await build(t, {
    sharedEmulator: emulator,
    plugin: { store: watched, apiUrl: api.url },
    before (app) {
      app.get('/via-got', async (request) => await request.spotify.api.get('me').json())
      app.get('/via-sdk', async (request) => await spotifySdk(request.spotify).currentUser.profile())
    }
  })
  return { built, api, writes }
}

/** Logs the jar's session out, as the browser's logout button does. */
async function logout (built: Built, jar: CookieJar): Promise<void> {
  const response = await built.app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })
  if (response.statusCode !== 303) throw new Error(`logout answered ${response.statusCode}`)
}

/** Every write asked of the store for `sessionId` from `since` on. */
function writesOf (writes: Write[], sessionId: string, since: number): Write[] {
  return writes.slice(since).filter((write) => write.sessionId === sessionId)
}

async function theSessionIsGone (t: Test, { built }: Rig, jar: CookieJar): Promise<void> {
  const sessionId = sessionIdOf(jar)
  t.equal(await built.app.spotify.store.get(sessionId), undefined, 'the store holds nothing for the session')
  const again = await built.app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })
  t.equal(again.statusCode, 401, 'its cookie opens nothing afterwards')
}

for (const [storeName, storeOf] of Object.entries(stores)) {
  t.test(`${storeName} store`, async (t) => {
    const store = await storeOf(t)
    if (store === undefined) return
    const setup = await rig(t, store)
    const { built, api, writes } = setup
    const { control } = built.emulator

    for (const [wayName, call] of Object.entries(waysIn)) {
      t.test(`${wayName}: a refresh in flight when the logout lands does not bring the record back`, async (t) => {
        const { jar } = await built.login()
        const sessionId = sessionIdOf(jar)
        await expireStored(built.app.spotify.store, sessionId)
        const before = await built.app.spotify.store.get(sessionId) as SpotifyToken
        control.resetCounters()
        const hold = control.holdTokenCalls()
        const calling = call(setup, jar)
        await hold.arrived
        const since = writes.length
        await logout(built, jar)
        hold.release()
        const outcome = await calling
        t.equal(control.counters.refresh_token, 1, 'Spotify answered the refresh')
        const refreshed = writesOf(writes, sessionId, since)
        t.same(refreshed.map(({ op, token, written }) => ({ op, refreshes: token.refreshes, written })),
          [{ op: 'update', refreshes: before.refreshes + 1, written: false }],
          'its write came after the logout, and the store refused it')
        t.same([outcome.status, outcome.code], [401, 'FST_SPOTIFY_NO_SESSION'], 'the call finds the session ended')
        t.notOk(outcome.setsSession, 'no session cookie comes back')
        t.equal(control.counters.api, 0, 'nothing reached the Web API as the ended session')
        await theSessionIsGone(t, setup, jar)
      })

      t.test(`${wayName}: a call in flight when the logout lands writes nothing`, async (t) => {
        const { jar } = await built.login()
        const sessionId = sessionIdOf(jar)
        const held = api.holdNext()
        const calling = call(setup, jar)
        await held.arrived
        const since = writes.length
        await logout(built, jar)
        held.release()
        const outcome = await calling
        t.equal(outcome.status, 200, 'the call sent before the logout is answered')
        t.notOk(outcome.setsSession, 'without a session cookie')
        t.same(writesOf(writes, sessionId, since), [], 'and nothing is written for the ended session')
        await theSessionIsGone(t, setup, jar)
      })

      t.test(`${wayName}: a call in flight answered 401 after the logout renews nothing`, async (t) => {
        const { jar } = await built.login()
        const sessionId = sessionIdOf(jar)
        const held = api.holdNext()
        const calling = call(setup, jar)
        await held.arrived
        const since = writes.length
        await logout(built, jar)
        control.resetCounters()
        control.unauthorizeApiCalls(1)
        held.release()
        const outcome = await calling
        t.same([outcome.status, outcome.code], [401, 'FST_SPOTIFY_NO_SESSION'], 'the renewal finds the session ended')
        t.notOk(outcome.setsSession, 'no session cookie comes back')
        t.equal(control.counters.refresh_token, 0, 'no refresh for an ended session')
        t.same(writesOf(writes, sessionId, since), [], 'nothing is written for it')
        await theSessionIsGone(t, setup, jar)
      })
    }
  })
}
