import { signerFactory } from '@fastify/cookie'
import Fastify from 'fastify'
import t from 'tap'
import spotifyAuth, { memoryStore } from '../plugin/index.js'
import { build, CookieJar, SECRET } from './helpers/build.js'

t.test('request.spotify without a session', async (t) => {
  const { app } = await build(t, {
    before (app) {
      app.get('/probe', async (request) => {
        const accessToken = await request.spotify.accessToken().catch((err: { code: string }) => err.code)
        const me = await request.spotify.api.get('me').json().catch((err: { code: string, statusCode: number }) => `${err.code} ${err.statusCode}`)
        return { sessionId: request.spotify.sessionId ?? null, token: await request.spotify.getToken(), accessToken, me }
      })
    }
  })
  const response = await app.inject('/probe')
  t.same(response.json(), {
    sessionId: null,
    token: null,
    accessToken: 'FST_SPOTIFY_NO_SESSION',
    me: 'FST_SPOTIFY_NO_SESSION 401'
  })
})

t.test('request.spotify with a session: token, access token, api client', async (t) => {
  const { login, request } = await build(t, {
    before (app) {
      app.get('/probe', async (request) => {
        const token = await request.spotify.getToken()
        const again = await request.spotify.getToken()
        const api = request.spotify.api
        const me = await api.get('me').json<{ id: string }>()
        return {
          sessionId: request.spotify.sessionId,
          same: token?.accessToken === again?.accessToken,
          accessToken: (await request.spotify.accessToken()) === token?.accessToken,
          me: me.id,
          client: request.spotify.api === api
        }
      })
    }
  })
  const { jar } = await login()
  const body = (await request(jar, { url: '/probe' })).json()
  t.match(body.sessionId, /^[\w-]{43}$/)
  t.equal(jar.cookies.get('spotify_session')?.startsWith(body.sessionId + '.'), true)
  t.equal(body.same, true)
  t.equal(body.accessToken, true)
  t.type(body.me, 'string')
  t.equal(body.client, true, 'one client per request')
})

t.test('a cookie whose session is gone is cleared by getToken', async (t) => {
  const { login, request, app } = await build(t, {
    before (app) {
      app.get('/token', async (request) => ({ token: await request.spotify.getToken() }))
    }
  })
  const { jar } = await login()
  const sessionId = (jar.cookies.get('spotify_session') as string).split('.')[0] as string
  await app.spotify.store.delete(sessionId)
  const response = await request(jar, { url: '/token' })
  t.same(response.json(), { token: null })
  t.notOk(jar.cookies.has('spotify_session'))
})

t.test('fastify.spotify.authenticate guards the app\'s own routes', async (t) => {
  const { login, request, emulator } = await build(t, {
    before (app) {
      app.get('/private', { onRequest: app.spotify.authenticate }, async () => 'secret stuff')
    }
  })
  const anonymous = await request(new CookieJar(), { url: '/private' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'FST_SPOTIFY_NO_SESSION', 'the app\'s error handler renders it')
  const { jar } = await login()
  emulator.control.resetCounters()
  const ok = await request(jar, { url: '/private' })
  t.equal(ok.statusCode, 200)
  t.equal(ok.body, 'secret stuff')
  t.equal(emulator.control.counters.api, 0, 'authenticate alone calls no API')
})

t.test('logout deletes the session, clears the cookie, 303 to successRedirect; works without a session', async (t) => {
  const { login, request, app } = await build(t, { plugin: { successRedirect: '/bye' } })
  const { jar } = await login()
  const sessionId = (jar.cookies.get('spotify_session') as string).split('.')[0] as string
  const cookie = jar.cookies.get('spotify_session') as string
  const response = await request(jar, { method: 'POST', url: '/logout' })
  t.equal(response.statusCode, 303)
  t.equal(response.headers.location, '/bye')
  t.notOk(jar.cookies.has('spotify_session'))
  t.equal(await app.spotify.store.get(sessionId), undefined)
  const replay = await app.inject({ url: '/spotify/me', headers: { cookie: `spotify_session=${cookie}` } })
  t.equal(replay.statusCode, 401, 'the old cookie is worthless')
  const anonymous = await request(new CookieJar(), { method: 'POST', url: '/logout' })
  t.equal(anonymous.statusCode, 303)
})

t.test('secret rotation: old cookies still verify and are re-signed with the new key', async (t) => {
  const OLD = 'an-older-session-secret-of-32-chars!!'
  const store = memoryStore()
  const old = await build(t, { plugin: { secret: OLD, store } })
  const { jar } = await old.login()
  const rotated = await build(t, { sharedEmulator: old.emulator, plugin: { secret: [SECRET, OLD], store } })
  const before = jar.cookies.get('spotify_session') as string
  const response = await rotated.request(jar, { url: '/spotify/me' })
  t.equal(response.statusCode, 200)
  const after = jar.cookies.get('spotify_session') as string
  t.not(after, before, 're-signed')
  t.equal(after, signerFactory(SECRET).sign(before.split('.')[0] as string), 'with the first secret')
  const newOnly = await build(t, { sharedEmulator: old.emulator, plugin: { secret: SECRET, store } })
  t.equal((await newOnly.app.inject({ url: '/spotify/me', headers: { cookie: `spotify_session=${before}` } })).statusCode, 401, 'a dropped secret no longer verifies')
})

t.test('with errorHandler: app, the app\'s error handler renders the plugin\'s errors with their codes', async (t) => {
  const { app } = await build(t, {
    plugin: { errorHandler: 'app' },
    before (app) {
      app.setErrorHandler(async (error: { code?: string, statusCode?: number }, _request, reply) => {
        return reply.code(error.statusCode ?? 500).type('text/html').send(`<p>${error.code}</p>`)
      })
    }
  })
  const response = await app.inject('/spotify/me')
  t.equal(response.statusCode, 401)
  t.equal(response.body, '<p>FST_SPOTIFY_NO_SESSION</p>')
})

t.test('by default the plugin\'s routes answer in Spotify\'s shape, whatever the app\'s handler', async (t) => {
  const { app } = await build(t, {
    before (app) {
      app.setErrorHandler(async (_error, _request, reply) => reply.code(418).send('the app\'s'))
    }
  })
  const response = await app.inject('/spotify/me')
  t.equal(response.statusCode, 401)
  t.same(response.json(), { error: { status: 401, message: 'Not logged in with Spotify', code: 'FST_SPOTIFY_NO_SESSION' } })
})

t.test('errors that are not ours keep their 4xx, and a 5xx hides its message', async (t) => {
  let logins = 0
  const { login, request } = await build(t, {
    plugin: {
      onLogin () { if (logins++ === 0) throw new Error('db password is hunter2') }
    }
  })
  const { callback } = await login()
  t.equal(callback.statusCode, 500)
  t.same(callback.json(), { error: { status: 500, message: 'Internal Server Error', code: 'FST_SPOTIFY_INTERNAL' } })
  const { jar } = await login()
  const tooLarge = await request(jar, {
    method: 'POST',
    url: '/spotify/me/playlists',
    headers: { 'content-type': 'application/json' },
    payload: Buffer.alloc(400 * 1024)
  })
  t.equal(tooLarge.statusCode, 413, 'past proxyBodyLimit')
  t.equal(tooLarge.json().error.code, 'FST_ERR_CTP_BODY_TOO_LARGE')
})

t.test('the plugin registers @fastify/cookie only when the app has not', async (t) => {
  const fastifyCookie = (await import('@fastify/cookie')).default
  const app = Fastify()
  await app.register(fastifyCookie, { secret: 'the-app-own-cookie-secret-xxxxxxxxx' })
  await app.register(spotifyAuth, {
    clientId: 'id', clientSecret: 'secret', redirectUri: 'http://127.0.0.1:5543/callback', secret: SECRET
  })
  app.get('/app', async (request) => request.unsignCookie(request.cookies.own as string).value)
  await app.ready()
  t.teardown(() => app.close())
  const signed = app.signCookie('mine')
  const response = await app.inject({ url: '/app', headers: { cookie: `own=${signed}` } })
  t.equal(response.body, 'mine', 'the app\'s own cookie secret still works')
})

t.test('request.spotify.refresh() refreshes now, once for concurrent calls', async (t) => {
  const { login, request, emulator } = await build(t, {
    before (app) {
      app.post('/refresh', async (request) => {
        const [a, b] = await Promise.all([request.spotify.refresh(), request.spotify.refresh()])
        return { same: a?.accessToken === b?.accessToken, refreshes: a?.refreshes ?? null }
      })
    }
  })
  t.same((await request(new CookieJar(), { method: 'POST', url: '/refresh' })).json(), { same: true, refreshes: null }, 'null without a session')
  const { jar } = await login()
  emulator.control.resetCounters()
  t.same((await request(jar, { method: 'POST', url: '/refresh' })).json(), { same: true, refreshes: 1 })
  t.equal(emulator.control.counters.refresh_token, 1)
})

t.test('request.spotify.refresh() on a session whose record is gone resolves null', async (t) => {
  const { login, request, app } = await build(t, {
    before (app) {
      app.post('/refresh', async (request) => ({ token: await request.spotify.refresh() }))
    }
  })
  const { jar } = await login()
  await app.spotify.store.delete((jar.cookies.get('spotify_session') as string).split('.')[0] as string)
  t.same((await request(jar, { method: 'POST', url: '/refresh' })).json(), { token: null })
})

t.test('logout from a plain HTML form (urlencoded, no fields) works', async (t) => {
  const { login, request } = await build(t)
  const { jar } = await login()
  const response = await request(jar, {
    method: 'POST',
    url: '/logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: ''
  })
  t.equal(response.statusCode, 303)
  t.notOk(jar.cookies.has('spotify_session'))
  const tooBig = await request(jar, { method: 'POST', url: '/logout', headers: { 'content-type': 'text/plain' }, payload: 'x'.repeat(2048) })
  t.equal(tooBig.statusCode, 413, 'a logout body is never buffered beyond 1 KiB')
})

t.test('a session revoked during a request.spotify.api call clears the cookie', async (t) => {
  const { login, request, emulator } = await build(t, {
    emulator: { accessTokenTtl: 30 },
    before (app) {
      app.get('/probe', async (request) => await request.spotify.api.get('me').json().catch((err: { code: string }) => ({ code: err.code })))
    }
  })
  const { jar } = await login()
  emulator.control.revokeAll()
  t.same((await request(jar, { url: '/probe' })).json(), { code: 'FST_SPOTIFY_SESSION_REVOKED' })
  t.notOk(jar.cookies.has('spotify_session'))
})

t.test('authenticate clears the cookie of a session that is gone', async (t) => {
  const { login, request, app } = await build(t, {
    before (app) {
      app.get('/private', { onRequest: app.spotify.authenticate }, async () => 'secret stuff')
    }
  })
  const { jar } = await login()
  await app.spotify.store.delete((jar.cookies.get('spotify_session') as string).split('.')[0] as string)
  const response = await request(jar, { url: '/private' })
  t.equal(response.statusCode, 401)
  t.notOk(jar.cookies.has('spotify_session'))
})

t.test('authenticate refreshes an expired session first, and ends a revoked one', async (t) => {
  const { login, request, emulator } = await build(t, {
    emulator: { accessTokenTtl: 30 },
    before (app) {
      app.get('/private', { preHandler: app.spotify.authenticate }, async (request) => (await request.spotify.getToken())?.refreshes)
    }
  })
  const { jar } = await login()
  emulator.control.setAccessTokenTtl(3600)
  emulator.control.resetCounters()
  const refreshed = await request(jar, { url: '/private' })
  t.equal(refreshed.statusCode, 200)
  t.equal(refreshed.body, '1', 'the handler sees the refreshed token')
  t.equal(emulator.control.counters.refresh_token, 1)

  emulator.control.setAccessTokenTtl(30)
  const second = await login()
  emulator.control.revokeAll()
  const revoked = await request(second.jar, { url: '/private' })
  t.equal(revoked.statusCode, 401)
  t.equal(revoked.json().code, 'FST_SPOTIFY_SESSION_REVOKED')
  t.notOk(second.jar.cookies.has('spotify_session'), 'cookie cleared')
})

t.test('authenticate also works called by hand, as a promise', async (t) => {
  const { login, request } = await build(t, {
    before (app) {
      app.get('/manual', async (request, reply) => {
        try {
          await app.spotify.authenticate(request, reply)
          return 'in'
        } catch (err) {
          return `out: ${(err as { code: string }).code}`
        }
      })
    }
  })
  t.equal((await request(new CookieJar(), { url: '/manual' })).body, 'out: FST_SPOTIFY_NO_SESSION')
  const { jar } = await login()
  t.equal((await request(jar, { url: '/manual' })).body, 'in')
})

t.test('authenticate on a session logged out during its refresh answers 401', async (t) => {
  const { login, app, emulator } = await build(t, {
    emulator: { accessTokenTtl: 30 },
    before (app) {
      app.get('/private', { onRequest: app.spotify.authenticate }, async () => 'secret stuff')
    }
  })
  const { jar } = await login()
  const hold = emulator.control.holdTokenCalls()
  const guarded = app.inject({ url: '/private', headers: { cookie: jar.header } })
  await hold.arrived
  t.equal((await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })).statusCode, 303)
  hold.release()
  const response = await guarded
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'FST_SPOTIFY_NO_SESSION')
})

t.test('request.spotify used by a hook that runs before the plugin\'s: a clear error', async (t) => {
  const fastifyCookie = (await import('@fastify/cookie')).default
  const app = Fastify()
  await app.register(fastifyCookie)
  app.addHook('onRequest', async (request) => { if (request.spotify.sessionId === 'never') throw new Error('unreachable') })
  await app.register(spotifyAuth, { clientId: 'id', clientSecret: 'secret', redirectUri: 'http://127.0.0.1:5543/callback', secret: SECRET })
  app.get('/', async () => 'ok')
  t.teardown(() => app.close())
  const response = await app.inject('/')
  t.equal(response.statusCode, 500)
  t.equal(response.json().code, 'FST_SPOTIFY_TOO_EARLY')
  t.match(response.json().message, /register the plugin before the hooks that use it/)
})
