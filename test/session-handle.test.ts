import t from 'tap'
import { build, type Built } from './helpers/build.js'

/** An app whose onLogin keeps the session ids, as an app linking accounts would. */
async function withKeptSessions (t: Parameters<typeof build>[0]): Promise<Built & { kept: string[] }> {
  const kept: string[] = []
  const built = await build(t, {
    plugin: {
      onLogin (_request, { sessionId }) { kept.push(sessionId) }
    }
  })
  return { ...built, kept }
}

t.test('fastify.spotify.session(id) reaches a session outside any request', async (t) => {
  const { app, login, emulator, kept } = await withKeptSessions(t)
  await login()
  const session = app.spotify.session(kept[0] as string)
  t.equal(session.sessionId, kept[0])
  const token = await session.getToken()
  t.same(token, await app.spotify.store.get(kept[0] as string), 'the stored token')
  t.equal(await session.accessToken(), token?.accessToken)
  const me = await session.api.get('me').json<{ id: string }>()
  t.type(me.id, 'string', 'its api calls the Web API as the user')
  t.equal(session.api, session.api, 'one client per handle')

  // The stored token nears its expiry: the next use refreshes it first.
  const stored = await app.spotify.store.get(kept[0] as string) as NonNullable<typeof token>
  await app.spotify.store.update(kept[0] as string, stored, { ...stored, expiresAt: Math.floor(Date.now() / 1000) + 5, refreshes: stored.refreshes + 1 })
  emulator.control.resetCounters()
  const [a, b, c] = await Promise.all([session.getToken(), app.spotify.session(kept[0] as string).getToken(), session.api.get('me').json()])
  t.equal(emulator.control.counters.refresh_token, 1, 'one refresh for concurrent callers')
  t.equal(a?.accessToken, b?.accessToken)
  t.ok(c)
  t.not(a?.accessToken, token?.accessToken, 'refreshed')

  const forced = await session.refresh()
  t.equal(forced?.refreshes, (a?.refreshes ?? 0) + 1, 'refresh() refreshes now')
})

t.test('a session ended by its handle is gone everywhere', async (t) => {
  const { app, login, request, kept } = await withKeptSessions(t)
  const { jar } = await login()
  const session = app.spotify.session(kept[0] as string)
  await session.end()
  t.equal(session.sessionId, undefined)
  t.equal(await session.getToken(), null)
  t.equal(await session.refresh(), null)
  await t.rejects(session.accessToken(), { code: 'FST_SPOTIFY_NO_SESSION' })
  t.equal(await app.spotify.store.get(kept[0] as string), undefined)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 401, 'the browser is logged out too')
})

t.test('a handle on a session that is gone or revoked forgets it', async (t) => {
  const { app, login, emulator, kept } = await withKeptSessions(t)
  await login()
  await login()
  const gone = app.spotify.session(kept[0] as string)
  await app.spotify.store.delete(kept[0] as string)
  t.equal(await gone.getToken(), null)
  t.equal(gone.sessionId, undefined, 'forgotten')

  const revoked = app.spotify.session(kept[1] as string)
  const stored = await app.spotify.store.get(kept[1] as string)
  emulator.control.revokeRefreshToken(stored?.refreshToken as string)
  await t.rejects(revoked.refresh(), { code: 'FST_SPOTIFY_SESSION_REVOKED' })
  t.equal(revoked.sessionId, undefined, 'forgotten')
  t.equal(await app.spotify.store.get(kept[1] as string), undefined, 'deleted')
})

t.test('request.spotify.logout() ends the session and clears the cookie', async (t) => {
  const { login, request, app } = await build(t, {
    before (app) {
      app.post('/bye', async (request) => {
        const sessionId = request.spotify.sessionId
        await request.spotify.logout()
        return { sessionId, after: request.spotify.sessionId ?? null }
      })
    }
  })
  const { jar } = await login()
  const id = (jar.cookies.get('spotify_session') as string).split('.')[0] as string
  const response = await request(jar, { method: 'POST', url: '/bye' })
  t.same(response.json(), { sessionId: id, after: null })
  t.notOk(jar.cookies.has('spotify_session'), 'cookie cleared')
  t.equal(await app.spotify.store.get(id), undefined)
})

t.test('refresh(rejected) refreshes only a rejected token that is still stored and past refreshCooldown', async (t) => {
  const { app, login, emulator, kept } = await withKeptSessions(t)
  await login()
  const session = app.spotify.session(kept[0] as string)
  const first = await session.getToken() as NonNullable<Awaited<ReturnType<typeof session.getToken>>>
  emulator.control.resetCounters()
  t.same(await session.refresh(first.accessToken), first, 'too young: the stored token as it is')
  t.equal(emulator.control.counters.refresh_token, 0)

  // Obtained a minute ago: old enough to be refreshed after a 401.
  await app.spotify.store.update(kept[0] as string, first, { ...first, obtainedAt: first.obtainedAt - 60, refreshes: first.refreshes + 1 })
  const renewed = await session.refresh(first.accessToken)
  t.not(renewed?.accessToken, first.accessToken)
  t.equal(emulator.control.counters.refresh_token, 1)
  t.same(await session.refresh(first.accessToken), renewed, 'already replaced: the replacement, no second refresh')
  t.equal(emulator.control.counters.refresh_token, 1)
})
