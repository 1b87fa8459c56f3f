import t from 'tap'
import type { RefreshEvent } from '../plugin/index.js'
import { endReason } from '../plugin/session/refresh/failed-refresh.js'
import { TokenRefusedError } from '../plugin/accounts/token-endpoint.js'
import { sampleToken } from '../plugin/testing/index.js'
import { build, parsedLogs } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

/*
 * Spotify tells a refresh token past its six months ("Refresh token
 * expired") from one the user revoked ("Refresh token revoked"): both end
 * the session, and onRefresh and the logs say which.
 */

async function loggedIn (t: Parameters<typeof build>[0], clock: { now: number }) {
  const events: Array<{ sessionId: string, event: RefreshEvent, refreshes: number }> = []
  const built = await build(t, {
    emulator: { now: () => clock.now },
    plugin: { onRefresh (sessionId, token, event) { events.push({ sessionId, event, refreshes: token.refreshes }) } }
  })
  const { jar } = await built.login()
  const id = (jar.cookies.get('spotify_session') as string).split('.')[0] as string
  return { ...built, id, events }
}

t.test('a refresh: onRefresh says refreshed', async (t) => {
  const clock = { now: Date.now() }
  const { app, id, events } = await loggedIn(t, clock)
  await app.spotify.session(id).refresh()
  t.same(events, [{ sessionId: id, event: { outcome: 'refreshed' }, refreshes: 1 }])
})

t.test('past six months: the session ends as expired', async (t) => {
  const clock = { now: Date.now() }
  const { app, id, events, logs } = await loggedIn(t, clock)
  clock.now += 184 * 24 * 3600_000
  await t.rejects(app.spotify.session(id).refresh(), { code: 'FST_SPOTIFY_SESSION_REVOKED' })
  t.equal(await app.spotify.store.get(id), undefined, 'deleted')
  t.same(events, [{ sessionId: id, event: { outcome: 'ended', reason: 'refresh-token-expired' }, refreshes: 0 }])
  const line = parsedLogs(logs).find((entry) => entry.reason !== undefined)
  t.equal(line?.reason, 'refresh-token-expired')
  t.notOk(logs.some((entry) => entry.includes(id)), 'the session id is in no log line')
})

t.test('revoked by the user: the session ends as revoked', async (t) => {
  const clock = { now: Date.now() }
  const { app, id, events, emulator, logs } = await loggedIn(t, clock)
  const token = await app.spotify.store.get(id)
  emulator.control.revokeRefreshToken(token?.refreshToken as string)
  await t.rejects(app.spotify.session(id).refresh(), { code: 'FST_SPOTIFY_SESSION_REVOKED' })
  t.equal(await app.spotify.store.get(id), undefined, 'deleted')
  t.same(events, [{ sessionId: id, event: { outcome: 'ended', reason: 'refresh-token-revoked' }, refreshes: 0 }])
  t.ok(parsedLogs(logs).some((entry) => entry.reason === 'refresh-token-revoked'))
})

t.test('the reason: Spotify\'s description, or the token\'s own horizon', async (t) => {
  const live = sampleToken(1)
  const past = { ...live, refreshTokenExpiresAt: Math.floor(Date.now() / 1000) - 1 }
  t.equal(endReason(new TokenRefusedError('invalid_grant', 400, 'Refresh token expired'), live), 'refresh-token-expired')
  t.equal(endReason(new TokenRefusedError('invalid_grant', 400, 'Refresh token revoked'), live), 'refresh-token-revoked')
  t.equal(endReason(new TokenRefusedError('invalid_grant', 400, 'Invalid refresh token'), live), 'refresh-token-revoked')
  t.equal(endReason(new TokenRefusedError('invalid_grant', 400), past), 'refresh-token-expired', 'whatever the wording')
  t.equal(endReason(new TokenRefusedError('invalid_grant', 400), live), 'refresh-token-revoked')
})

t.test('a record stored without the login\'s new fields refreshes without them; a refusal with no description still ends it', async (t) => {
  const clock = { now: Date.now() }
  const { app, id, events } = await loggedIn(t, clock)
  const { accountId, displayName, userAgent, ...older } = (await app.spotify.store.get(id))!
  t.ok(accountId !== undefined && displayName !== undefined && userAgent !== undefined)
  await app.spotify.store.set(id, older)
  const refreshed = await app.spotify.session(id).refresh()
  t.equal(refreshed?.refreshes, 1)
  t.notOk('accountId' in (refreshed ?? {}) || 'displayName' in (refreshed ?? {}) || 'userAgent' in (refreshed ?? {}), 'nothing made up')
  t.equal(events.length, 1)

  const accounts = await fakeUpstream(t, (upstream) => {
    upstream.post('/api/token', async (_request, reply) => reply.code(400).send({ error: 'invalid_grant' }))
  })
  const other = await build(t, { plugin: { accountsUrl: accounts } })
  await other.app.spotify.store.set(id, sampleToken(1))
  await t.rejects(other.app.spotify.session(id).refresh(), { code: 'FST_SPOTIFY_SESSION_REVOKED' })
})
