import t from 'tap'
import { memoryStore, type TokenStore } from '../plugin/index.js'
import { build, CookieJar } from './helpers/build.js'
import { sessionIdOf } from './helpers/sessions.js'

/*
 * Spotify's six-month wall: a job finds the sessions whose refresh token
 * ends soon; the cookie never outlives the refresh token; a session whose
 * refresh token Spotify refuses ends (cookie cleared); and the user's next
 * login replaces it cleanly.
 */

const DAY = 24 * 60 * 60

t.test('sessionsExpiringBefore finds the sessions whose refresh token ends before a time', async (t) => {
  const built = await build(t)
  const { jar } = await built.login()
  const id = sessionIdOf(jar)
  const token = await built.app.spotify.store.get(id)
  const now = Math.floor(Date.now() / 1000)
  t.same(await built.app.spotify.sessionsExpiringBefore(now + 30 * DAY), [], 'nothing ends within 30 days of a login')
  t.same(await built.app.spotify.sessionsExpiringBefore((token?.refreshTokenExpiresAt as number) + 1), [id])
  t.same(await built.app.spotify.sessionsExpiringBefore(token?.refreshTokenExpiresAt as number), [], 'before, not at')
})

t.test('a store without the capability: FST_SPOTIFY_STORE_UNSUPPORTED', async (t) => {
  const inner = memoryStore()
  const store: TokenStore = {
    get: (id) => inner.get(id),
    set: (id, token) => inner.set(id, token),
    update: (id, previous, next) => inner.update(id, previous, next),
    delete: (id) => inner.delete(id)
  }
  const built = await build(t, { plugin: { store } })
  await t.rejects(built.app.spotify.sessionsExpiringBefore(Date.now() / 1000), { code: 'FST_SPOTIFY_STORE_UNSUPPORTED', statusCode: 500 })
})

t.test('the cookie lives no longer than the refresh token', async (t) => {
  const long = await build(t, { plugin: { cookie: { maxAge: 365 * DAY } } })
  const { jar, callback } = await long.login()
  const token = await long.app.spotify.store.get(sessionIdOf(jar))
  const cookie = callback.cookies.find((c) => c.name === 'spotify_session') as { maxAge: number }
  const left = (token?.refreshTokenExpiresAt as number) - Math.floor(Date.now() / 1000)
  t.ok(cookie.maxAge <= left && cookie.maxAge >= left - 5, `Max-Age ${cookie.maxAge} stops at reauthBy (${left} s away), not at a year`)

  const usual = await build(t)
  const login = await usual.login()
  const usualCookie = login.callback.cookies.find((c) => c.name === 'spotify_session') as { maxAge: number }
  t.equal(usualCookie.maxAge, 30 * DAY, 'a shorter cookie.maxAge stands')
})

t.test('a session whose refresh token Spotify refuses ends, and the next login replaces it cleanly', async (t) => {
  let clock = Date.now()
  const built = await build(t, { emulator: { now: () => clock } })
  const { jar } = await built.login()
  const dead = sessionIdOf(jar)
  // Past six months on Spotify's clock; the access token expires with it.
  clock += 184 * DAY * 1000
  built.emulator.control.expireAccessTokens()
  const stale = await built.app.spotify.store.get(dead)
  await built.app.spotify.store.update(dead, stale!, { ...stale!, expiresAt: Math.floor(Date.now() / 1000) - 1 })
  const oldCookie = jar.header
  const refused = await built.request(jar, { url: '/spotify/me' })
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().error.code, 'FST_SPOTIFY_SESSION_REVOKED')
  t.match(refused.headers['set-cookie'], /spotify_session=;/, 'the cookie is cleared')
  t.equal(await built.app.spotify.store.get(dead), undefined, 'the session ended')

  // The same browser logs in again (here with its old cookie still sent: a
  // page open since before the refusal).
  const again = new CookieJar()
  again.cookies.set('spotify_session', oldCookie.split('=')[1] as string)
  const { jar: renewed, callback } = await built.login(again)
  t.equal(callback.statusCode, 302)
  const fresh = sessionIdOf(renewed)
  t.not(fresh, dead, 'a new session id')
  t.same(await built.app.spotify.sessionsOf('alice'), [fresh], 'only the new session is the user\'s')
  const session = await built.request(renewed, { url: '/session' })
  t.equal(session.statusCode, 200)
  t.ok(session.json().reauthBy > Math.floor(Date.now() / 1000) + 180 * DAY, 'a new six months, from the new authorization')
  t.equal((await built.request(renewed, { url: '/session/devices' })).json().devices.length, 1)
  t.equal((await built.app.inject({ url: '/session', headers: { cookie: oldCookie } })).statusCode, 401, 'the old cookie opens nothing')
})
