import t from 'tap'
import { memoryStore, type SpotifyToken, type TokenStore } from '../plugin/index.js'
import { build, type Built, type CookieJar } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

/** A route that shows the session's token, to watch refreshes from outside. */
function tokenRoute (built: Pick<Built, 'app'>): void {
  built.app.get('/token', async (request) => {
    const token = await request.spotify.getToken()
    return token === null ? { token: null } : { refreshes: token.refreshes, scope: token.scope, expiresAt: token.expiresAt, refreshToken: token.refreshToken }
  })
}

async function loggedIn (t: Parameters<typeof build>[0], options: Parameters<typeof build>[1] = {}): Promise<Built & { jar: CookieJar }> {
  const built = await build(t, { ...options, before: (app) => tokenRoute({ app }) })
  const { jar } = await built.login()
  built.emulator.control.resetCounters()
  return { ...built, jar }
}

t.test('a fresh token is used as it is: no refresh', async (t) => {
  const { request, jar, emulator } = await loggedIn(t)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200)
  t.equal(emulator.control.counters.refresh_token, 0)
})

t.test('a token within refreshMargin of expiry counts as expired: exactly one refresh', async (t) => {
  // Tokens live 100 s; a margin of 120 s makes every one of them stale.
  const { request, jar, emulator } = await loggedIn(t, { emulator: { accessTokenTtl: 100 }, plugin: { refreshMargin: 120_000 } })
  emulator.control.setAccessTokenTtl(3600)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200)
  t.equal(emulator.control.counters.refresh_token, 1, 'refreshed once, then the new token is fresh')
  const token = (await request(jar, { url: '/token' })).json()
  t.equal(token.refreshes, 1)
})

t.test('100 concurrent requests on an expired session: one refresh, 100 successes', async (t) => {
  const { request, jar, emulator } = await loggedIn(t, { emulator: { accessTokenTtl: 30 } })
  emulator.control.setAccessTokenTtl(3600)
  const responses = await Promise.all(Array.from({ length: 100 }, () => request(jar, { url: '/spotify/me' })))
  t.same(responses.map((r) => r.statusCode), Array(100).fill(200))
  t.equal(emulator.control.counters.refresh_token, 1)
  t.ok(emulator.control.counters.api >= 1 && emulator.control.counters.api <= 100, 'identical reads merged (and cached): at most one call each')
})

t.test('rotation: a new refresh token replaces the old one and is used next time', async (t) => {
  const { request, jar, emulator } = await loggedIn(t, { emulator: { accessTokenTtl: 30, rotateRefreshTokens: true } })
  const before = (await request(jar, { url: '/token' })).json()
  t.equal(emulator.control.counters.refresh_token, 1)
  const after = (await request(jar, { url: '/token' })).json()
  t.not(after.refreshToken, undefined)
  t.equal(after.refreshes, before.refreshes + 1, 'the second read refreshed again (ttl below margin)')
  t.equal(emulator.control.counters.refresh_token, 2, 'the rotated refresh token worked: the old one is dead in the emulator')
  t.not(before.refreshToken, after.refreshToken)
})

t.test('a refresh response without refresh_token keeps the old one', async (t) => {
  const { request, jar, emulator } = await loggedIn(t, { emulator: { accessTokenTtl: 30, omitRefreshToken: true } })
  const first = (await request(jar, { url: '/token' })).json()
  const second = (await request(jar, { url: '/token' })).json()
  t.equal(emulator.control.counters.refresh_token, 2)
  t.equal(second.refreshToken, first.refreshToken)
  t.type(second.refreshToken, 'string')
  t.ok(second.refreshToken.length > 10)
})

t.test('the stored scope is the granted one, not the requested one', async (t) => {
  const { request, jar } = await loggedIn(t)
  const token = (await request(jar, { url: '/token' })).json()
  t.same(token.scope, ['user-read-private', 'user-read-email', 'playlist-read-private', 'playlist-read-collaborative'])
})

t.test('invalid_grant: 401, the session is deleted, the next request makes no token call', async (t) => {
  const { request, jar, emulator } = await loggedIn(t, { plugin: { refreshCooldown: 0 } })
  const token = (await request(jar, { url: '/token' })).json()
  emulator.control.revokeRefreshToken(token.refreshToken)
  emulator.control.expireAccessTokens()
  emulator.control.resetCounters()
  const revoked = await request(jar, { url: '/spotify/me' })
  t.equal(revoked.statusCode, 401)
  t.equal(revoked.json().error.code, 'FST_SPOTIFY_SESSION_REVOKED')
  t.equal(emulator.control.counters.refresh_token, 1)
  t.notOk(jar.cookies.has('spotify_session'), 'the cookie of the ended session is cleared')
  emulator.control.resetCounters()
  const next = await request(jar, { url: '/spotify/me' })
  t.equal(next.statusCode, 401)
  t.equal(next.json().error.code, 'FST_SPOTIFY_NO_SESSION')
  t.equal(emulator.control.counters.refresh_token, 0)
  t.equal(emulator.control.counters.api, 0)
})

t.test('getToken after invalid_grant rejects with 401 and clears the cookie', async (t) => {
  const { request, jar, emulator } = await loggedIn(t, { emulator: { accessTokenTtl: 30 } })
  emulator.control.revokeAll()
  const response = await request(jar, { url: '/token' })
  t.equal(response.statusCode, 401)
  t.notOk(jar.cookies.has('spotify_session'), 'cookie cleared')
})

t.test('token endpoint 5xx, hang or down: 502/504, the session is kept and recovers', async (t) => {
  const { request, jar, emulator } = await loggedIn(t, { emulator: { accessTokenTtl: 30 }, plugin: { timeout: 300 } })
  emulator.control.failTokenCalls(1, 503)
  const failed = await request(jar, { url: '/spotify/me' })
  t.equal(failed.statusCode, 502)
  t.equal(failed.json().error.code, 'FST_SPOTIFY_UPSTREAM_ERROR')
  emulator.control.hangTokenCalls(1)
  const hung = await request(jar, { url: '/spotify/me' })
  t.equal(hung.statusCode, 504)
  t.ok(jar.cookies.has('spotify_session'), 'cookie kept')
  emulator.control.setAccessTokenTtl(3600)
  const recovered = await request(jar, { url: '/spotify/me' })
  t.equal(recovered.statusCode, 200, 'the next try refreshes and succeeds')
  t.equal(emulator.control.counters.refresh_token, 3)
})

t.test('a client refused at refresh (invalid_client) answers 502 and keeps the session', async (t) => {
  const built = await build(t, { emulator: { accessTokenTtl: 30 } })
  const { jar } = await built.login()
  // Same session, but a second app instance with a wrong secret (a bad deploy).
  const cookie = jar.cookies.get('spotify_session') as string
  const store = built.app.spotify.store
  const broken = await build(t, { sharedEmulator: built.emulator, plugin: { clientSecret: 'rotated-away', store } })
  const response = await broken.app.inject({ url: '/spotify/me', headers: { cookie: `spotify_session=${cookie}` } })
  t.equal(response.statusCode, 502)
  t.notMatch(response.body, /rotated-away/)
  const ok = await built.request(jar, { url: '/spotify/me' })
  t.equal(ok.statusCode, 200, 'the session survived')
})

t.test('onRefresh runs after every refresh; its failure is logged, never fails the request', async (t) => {
  const calls: Array<[string, SpotifyToken]> = []
  const built = await build(t, {
    emulator: { accessTokenTtl: 30 },
    plugin: {
      onRefresh (sessionId, token) {
        calls.push([sessionId, token])
        if (calls.length === 2) throw new Error('audit log is down')
      }
    }
  })
  const { jar } = await built.login()
  t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 200)
  t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 200)
  t.equal(calls.length, 2)
  t.match(calls[0]?.[0], /^[\w-]{43}$/)
  t.equal(calls[1]?.[1].refreshes, 2)
  t.ok(built.logs.some((line) => line.includes('onRefresh failed') && line.includes('audit log is down')))
})

t.test('a logout during an in-flight refresh is not undone', async (t) => {
  // A custom store (as a user could write one) that lets a logout in just
  // after Spotify answered the refresh and before the new token is written.
  const inner = memoryStore()
  let cookie = ''
  let loggedOut = 0
  const store: TokenStore = {
    get: (id) => inner.get(id),
    set: (id, token) => inner.set(id, token),
    delete: (id) => inner.delete(id),
    async update (id, previous, next) {
      const response = await built.app.inject({ method: 'POST', url: '/logout', headers: { cookie: `spotify_session=${cookie}` } })
      loggedOut = response.statusCode
      return await inner.update(id, previous, next)
    }
  }
  const built = await build(t, { emulator: { accessTokenTtl: 30 }, plugin: { store } })
  const { jar } = await built.login()
  cookie = jar.cookies.get('spotify_session') as string
  const response = await built.app.inject({ url: '/spotify/me', headers: { cookie: `spotify_session=${cookie}` } })
  t.equal(loggedOut, 303, 'the logout ran during the refresh')
  t.equal(response.statusCode, 401, 'the request sees the session gone')
  t.equal(await inner.get(cookie.split('.')[0] as string), undefined, 'the store holds nothing for it')
  const after = await built.app.inject({ url: '/spotify/me', headers: { cookie: `spotify_session=${cookie}` } })
  t.equal(after.statusCode, 401, 'no session was resurrected')
})

t.test('a refresh response without scope keeps the stored scope', async (t) => {
  // Spotify always sends scope; a token endpoint that does not must not
  // leave the session with none.
  const built = await build(t, { before: (app) => tokenRoute({ app }) })
  const { jar } = await built.login()
  const fakeUrl = await fakeUpstream(t, (fake) => {
    fake.post('/api/token', async () => ({ access_token: 'BQ-from-the-fake-endpoint', expires_in: 3600, token_type: 'Bearer' }))
  })
  const other = await build(t, {
    sharedEmulator: built.emulator,
    plugin: { store: built.app.spotify.store, accountsUrl: fakeUrl, refreshMargin: 3_600_000 },
    before: (app) => tokenRoute({ app })
  })
  const before = (await built.request(jar, { url: '/token' })).json()
  const after = (await other.request(jar, { url: '/token' })).json()
  t.equal(after.refreshes, before.refreshes + 1, 'refreshed through the fake')
  t.same(after.scope, before.scope)
  t.equal(after.refreshToken, before.refreshToken)
})

t.test('a read that resolves after a refresh landed does not refresh again', async (t) => {
  // A custom store whose reads may be slow: the first read after arming takes
  // its snapshot, then waits until we let it go.
  const inner = memoryStore()
  let gate: { arrived: () => void, open: Promise<void> } | undefined
  const store: TokenStore = {
    async get (id) {
      const snapshot = await inner.get(id)
      const held = gate
      gate = undefined
      if (held !== undefined) {
        held.arrived()
        await held.open
      }
      return snapshot
    },
    set: (id, token) => inner.set(id, token),
    update: (id, previous, next) => inner.update(id, previous, next),
    delete: (id) => inner.delete(id)
  }
  const built = await build(t, { emulator: { accessTokenTtl: 30 }, plugin: { store } })
  const { jar } = await built.login()
  built.emulator.control.setAccessTokenTtl(3600)
  built.emulator.control.resetCounters()
  let arrived!: () => void
  const atGate = new Promise<void>((resolve) => { arrived = resolve })
  let open!: () => void
  gate = { arrived, open: new Promise<void>((resolve) => { open = resolve }) }
  const slow = built.request(jar, { url: '/spotify/me' })
  await atGate
  t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 200, 'a second request refreshes meanwhile')
  open()
  t.equal((await slow).statusCode, 200)
  t.equal(built.emulator.control.counters.refresh_token, 1, 'the slow reader found the new token and did not refresh again')
})
