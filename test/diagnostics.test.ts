/**
 * The diagnostics channels, feature by feature: what each message says, and
 * that none of them, over a whole run of the plugin, carries a token, a
 * code, a verifier, a secret, a cookie or a session id.
 */
import t from 'tap'
import { memoryStore, redisStore, type TokenStore } from '../plugin/index.js'
import { OTHER_ROUTE, routeTemplate } from '../plugin/diagnostics/route-template.js'
import { spotifySdk } from '../plugin/sdk/index.js'
import { build, CLIENT_SECRET, CookieJar, SECRET, type Built } from './helpers/build.js'
import { recordDiagnostics } from './helpers/diagnostics.js'
import { expireStored, sessionIdOf, storm } from './helpers/sessions.js'
import { newClient, redisOrSkip, uniquePrefix } from './helpers/redis.js'
import { watchedLogin } from './helpers/watched-login.js'

t.test('route templates: Spotify\'s paths with every id as {id}, nothing else', async (t) => {
  t.equal(routeTemplate('/v1/playlists/3cEYpjA9oz9GiPac4AsH4n/items?limit=2&offset=4'), '/v1/playlists/{id}/items')
  t.equal(routeTemplate('/v1/me'), '/v1/me')
  t.equal(routeTemplate('/v1/me/'), '/v1/me', 'one trailing slash')
  t.equal(routeTemplate('/v1/me/player/devices'), '/v1/me/player/devices')
  t.equal(routeTemplate('/v1/users/someone/playlists'), '/v1/users/{id}/playlists')
  t.equal(routeTemplate('/base/v1/tracks/abc'), '/v1/tracks/{id}', 'an apiUrl with a path of its own')
  t.equal(routeTemplate('/v1/me/secret-new-endpoint'), OTHER_ROUTE, 'an unknown path under a known one')
  t.equal(routeTemplate('/v1/playlists//items'), OTHER_ROUTE, 'an empty segment is no id')
  t.equal(routeTemplate('/v1/someone-s-id'), OTHER_ROUTE)
  t.equal(routeTemplate('/v2/me'), OTHER_ROUTE)
})

t.test('login: the code exchange, the profile call, the store write and the session start', async (t) => {
  const built = await build(t)
  const recorded = recordDiagnostics(t)
  const { jar } = await built.login()
  t.same(recorded.of('token.exchange'), [{ grant: 'authorization_code' }])
  t.same(recorded.of('web-api'), [{ method: 'GET', route: '/v1/me', attempts: 1, status: 200, source: 'network' }])
  t.same(recorded.of('store').map((m) => m.operation), ['set', 'sessionsOf'])
  t.ok(recorded.of('store').every((m) => m.store === 'memory'))
  const [started] = recorded.of('session')
  t.match(started, { event: 'started', session: /^[0-9a-f]{16}$/ })
  t.not((started as { session: string }).session, sessionIdOf(jar), 'a keyed hash, not the id')

  recorded.seen.length = 0
  await built.login(jar)
  t.same(recorded.of('session').map((m) => [m.event, m.reason, m.session === (started as { session: string }).session]),
    [['ended', 'replaced', true], ['started', undefined, false]], 'a second login in the same browser replaces the session')
})

t.test('refreshes: by margin, after a 401, forced, merged', async (t) => {
  const built = await build(t, {
    emulator: { accessTokenTtl: 3600 },
    plugin: { refreshCooldown: 0 },
    before (app) {
      app.post('/refresh', async (request) => { await request.spotify.refresh(); return 'ok' })
    }
  })
  const { app, emulator, request } = built
  const { jar } = await built.login()
  const recorded = recordDiagnostics(t)
  const sessionId = sessionIdOf(jar)

  await expireStored(app.spotify.store, sessionId)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200)
  t.match(recorded.of('token.refresh'), [{ reason: 'margin', merged: false, lockWaitMs: 0 }])
  t.match(recorded.of('web-api', 'start'), [{ method: 'GET', route: '/v1/me' }])
  const [start] = recorded.seen.filter((s) => s.channel === 'token.refresh' && s.event === 'start')
  t.match(start?.message, { reason: 'margin' }, 'a refresh traces start and end')

  recorded.seen.length = 0
  emulator.control.unauthorizeApiCalls(1)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200)
  t.match(recorded.of('token.refresh'), [{ reason: '401', merged: false }])
  t.match(recorded.of('web-api'), [{ route: '/v1/me', status: 200, attempts: 2 }], 'sent twice: refused, then renewed')

  recorded.seen.length = 0
  t.equal((await request(jar, { method: 'POST', url: '/refresh' })).statusCode, 200)
  t.match(recorded.of('token.refresh'), [{ reason: 'forced', merged: false }])

  recorded.seen.length = 0
  await expireStored(app.spotify.store, sessionId)
  emulator.control.resetCounters()
  const responses = await storm([built], jar, 10)
  t.same(responses.map((r) => r.statusCode), Array(10).fill(200))
  t.equal(emulator.control.counters.refresh_token, 1)
  const refreshes = recorded.of('token.refresh')
  t.equal(refreshes.length, 10, 'each caller publishes its refresh')
  t.equal(refreshes.filter((m) => m.merged === false).length, 1, 'one asked Spotify; nine joined it')
})

t.test('across instances sharing Redis: the waiter reports its lock wait, merged', async (t) => {
  const redis = await redisOrSkip(t)
  if (redis === undefined) return
  const prefix = uniquePrefix(t, redis)
  const first = await build(t, { plugin: { store: redisStore({ client: await newClient(t), prefix }) } })
  const second = await build(t, { sharedEmulator: first.emulator, plugin: { store: redisStore({ client: await newClient(t), prefix }) } })
  const { jar } = await first.login()
  await expireStored(first.app.spotify.store, sessionIdOf(jar))
  const recorded = recordDiagnostics(t)
  const held = first.emulator.control.holdTokenCalls()
  const leading = first.request(jar, { url: '/spotify/me' })
  await held.arrived
  const waiting = second.request(jar, { url: '/spotify/me' })
  // The waiter is in its lock loop once it has tried the lock.
  await eventuallyLockTried(recorded, 2)
  held.release()
  t.equal((await leading).statusCode, 200)
  t.equal((await waiting).statusCode, 200)
  const refreshes = recorded.of('token.refresh')
  t.equal(refreshes.length, 2)
  const waiter = refreshes.find((m) => m.merged === true)
  t.ok(waiter !== undefined, 'the second instance took the first one\'s token')
  t.ok((waiter?.lockWaitMs as number) > 0, `it waited ${String(waiter?.lockWaitMs)} ms`)
  const operations = recorded.of('store').filter((m) => m.store === 'redis').map((m) => m.operation)
  t.ok(operations.includes('lock') && operations.includes('unlock'), 'lock and unlock are store operations')
  t.ok(recorded.of('store').some((m) => m.operation === 'lock' && m.applied === false), 'a lock found taken')
})

/** Resolves once `count` lock attempts were published. */
async function eventuallyLockTried (recorded: ReturnType<typeof recordDiagnostics>, count: number): Promise<void> {
  const { eventually } = await import('./helpers/eventually.js')
  await eventually('lock attempts', () => recorded.of('store', 'start').filter((m) => m.operation === 'lock').length >= count)
}

t.test('a failing store: the store channel reports the failure by name only', async (t) => {
  const inner = memoryStore()
  let down = false
  const fail = (): never => { throw Object.assign(new Error('ECONNREFUSED'), { command: { args: ['the record itself'] } }) }
  const store: TokenStore = {
    get: async (id) => down ? fail() : await inner.get(id),
    set: async (id, token) => down ? fail() : await inner.set(id, token),
    update: async (id, previous, next) => down ? fail() : await inner.update(id, previous, next),
    delete: (id) => down ? fail() : inner.delete(id)
  }
  const built = await build(t, { plugin: { store } })
  const { jar } = await built.login()
  const recorded = recordDiagnostics(t)
  down = true
  t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 503)
  t.equal((await built.request(jar, { method: 'POST', url: '/logout' })).statusCode, 503, 'a store that throws at once')
  const errors = recorded.of('store', 'error')
  t.match(errors, [{ operation: 'get', store: 'custom', error: { message: 'ECONNREFUSED' } }, { operation: 'delete', error: { message: 'ECONNREFUSED' } }])
  t.notOk(JSON.stringify(recorded.seen).includes('the record itself'), 'nothing of the store client\'s error beyond its summary')
  t.match(recorded.of('web-api', 'error'), [{ route: '/v1/me', error: { code: 'FST_SPOTIFY_STORE_UNAVAILABLE' } }])
})

t.test('every client: proxy, got, fetch through the SDK, the app token', async (t) => {
  const built = await build(t, {
    before (app) {
      app.get('/got', async (request) => await request.spotify.api.get('search', { searchParams: { q: 'a', type: 'track', limit: 2 } }).json())
      app.get('/sdk', async (request) => await spotifySdk(request.spotify).currentUser.profile())
    }
  })
  const { jar } = await built.login()
  const recorded = recordDiagnostics(t)
  t.equal((await built.request(jar, { url: '/spotify/me/playlists?limit=1' })).statusCode, 200)
  t.equal((await built.request(jar, { url: '/got' })).statusCode, 200)
  t.equal((await built.request(jar, { url: '/sdk' })).statusCode, 200)
  await built.app.spotify.app.api.get('search', { searchParams: { q: 'a', type: 'track', limit: 1 } })
  t.same(recorded.of('web-api').map((m) => [m.route, m.status, m.source]), [
    ['/v1/me/playlists', 200, 'network'],
    ['/v1/search', 200, 'network'],
    ['/v1/me', 200, 'network'],
    ['/v1/search', 200, 'network']
  ])
  t.same(recorded.of('token.exchange'), [{ grant: 'client_credentials' }])
})

t.test('429: the window opens, is learnt by a sibling through the store, and closes', async (t) => {
  const store = memoryStore()
  const first = await build(t, { plugin: { store } })
  const second = await build(t, { sharedEmulator: first.emulator, plugin: { store } })
  const { jar } = await first.login()
  const recorded = recordDiagnostics(t)
  first.emulator.control.rateLimitApiCalls(1, 30)
  t.equal((await first.request(jar, { url: '/spotify/me' })).statusCode, 429)
  t.match(recorded.of('rate-limit'), [{ state: 'opened', reason: 'rate', retryAfter: 30, origin: 'local' }])
  t.match(recorded.of('web-api'), [{ route: '/v1/me', status: 429 }])
  t.equal((await second.request(jar, { url: '/spotify/me' })).statusCode, 429)
  t.match(recorded.of('rate-limit')[1], { state: 'opened', origin: 'shared', retryAfter: 30 }, 'the sibling learnt it from the store')
  t.equal((await first.request(jar, { url: '/spotify/me' })).statusCode, 429)
  t.equal(recorded.of('rate-limit').length, 2, 'a window already announced is not announced again')

  const realNow = Date.now
  Date.now = () => realNow() + 31_000
  try {
    t.equal((await first.request(jar, { url: '/spotify/me' })).statusCode, 200)
  } finally {
    Date.now = realNow
  }
  t.match(recorded.of('rate-limit')[2], { state: 'closed', retryAfter: 0 })
})

t.test('session ends: logout, per-user cap, ended elsewhere, revoked, expired', async (t) => {
  const built = await build(t, { plugin: { maxSessionsPerUser: 1, refreshCooldown: 0 } })
  const { app, emulator, request } = built
  const recorded = recordDiagnostics(t)
  const ended = () => recorded.of('session').filter((m) => m.event === 'ended').map((m) => m.reason)

  const { jar } = await built.login()
  t.equal((await request(jar, { method: 'POST', url: '/logout' })).statusCode, 303)
  t.same(ended(), ['logout'])

  await built.login(new CookieJar())
  const { jar: other } = await built.login(new CookieJar())
  t.same(ended(), ['logout', 'per-user-cap'])

  await app.spotify.store.delete(sessionIdOf(other))
  t.equal((await request(other, { url: '/spotify/me' })).statusCode, 401)
  t.same(ended(), ['logout', 'per-user-cap', 'ended-elsewhere'])

  const { jar: revoked } = await built.login(new CookieJar())
  emulator.control.revokeAll()
  await expireStored(app.spotify.store, sessionIdOf(revoked))
  t.equal((await request(revoked, { url: '/spotify/me' })).statusCode, 401)
  t.same(ended().slice(-1), ['revoked'])

  const { jar: old } = await built.login(new CookieJar())
  const current = await app.spotify.store.get(sessionIdOf(old))
  if (current === undefined) throw new Error('no session')
  // Seconds before its lifetime: the store keeps it, Spotify refuses it.
  const now = Math.floor(Date.now() / 1000)
  await app.spotify.store.update(sessionIdOf(old), current, { ...current, expiresAt: now - 1, refreshTokenExpiresAt: now + 30, refreshes: current.refreshes + 1 })
  emulator.control.revokeAll()
  t.equal((await request(old, { url: '/spotify/me' })).statusCode, 401)
  t.same(ended().slice(-1), ['expired'])
})

t.test('a whole run: no message carries a token, code, verifier, state, cookie, secret or session id', async (t) => {
  const secrets = new Set<string>([CLIENT_SECRET, SECRET])
  const built: Built = await build(t, {
    emulator: { accessTokenTtl: 30, rotateRefreshTokens: true },
    plugin: { refreshCooldown: 0 },
    before (app) {
      app.get('/token', async (request) => await request.spotify.getToken())
      app.get('/got', async (request) => await request.spotify.api.get('me').json())
      app.get('/sdk', async (request) => await spotifySdk(request.spotify).currentUser.profile())
    }
  })
  const recorded = recordDiagnostics(t)
  const { emulator, request } = built
  const { jar, status } = await watchedLogin(built, secrets, '/login?returnTo=/after')
  t.equal(status, 302)
  for (const url of ['/token', '/spotify/me', '/got', '/sdk', '/token']) {
    const response = await request(jar, { url })
    t.equal(response.statusCode, 200)
    if (url === '/token') {
      secrets.add(response.json().accessToken)
      secrets.add(response.json().refreshToken)
    }
  }
  emulator.control.unauthorizeApiCalls(1)
  t.equal((await request(jar, { url: '/spotify/playlists/abc/items' })).statusCode, 404)
  secrets.add((await built.app.spotify.app.getToken()).accessToken)
  await built.app.spotify.app.api.get('search', { searchParams: { q: 'secret-query', type: 'track' } })
  emulator.control.rateLimitApiCalls(1, 5)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 429)
  for (const seen of emulator.control.apiRequests) secrets.add(String(seen.headers.authorization).replace('Bearer ', ''))
  t.equal((await request(jar, { method: 'POST', url: '/logout' })).statusCode, 303)

  const text = JSON.stringify(recorded.seen)
  const channels = new Set(recorded.seen.map((s) => s.channel))
  t.same([...channels].sort(), ['rate-limit', 'session', 'store', 'token.exchange', 'token.refresh', 'web-api'], 'every channel spoke')
  t.ok(secrets.size > 12, `watched ${secrets.size} secrets`)
  t.notOk(text.includes('secret-query'), 'no query string')
  t.notOk(text.includes('/abc/'), 'no id in a path')
  for (const secret of secrets) {
    t.ok(secret.length >= 16, 'a real secret, not a short string that could match by chance')
    t.notOk(text.includes(secret), `no message contains ${secret.slice(0, 6)}…`)
  }
})
