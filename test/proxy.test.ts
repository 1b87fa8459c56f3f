import { request as httpRequest } from 'node:http'
import t from 'tap'
import { memoryStore } from '../plugin/index.js'
import { vanishingStore } from './helpers/stores.js'
import { build, CookieJar, deadUrl } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

t.test('proxied GET keeps the path and query string', async (t) => {
  const { login, request, emulator } = await build(t)
  const { jar } = await login()
  emulator.control.clearApiRequests()
  const response = await request(jar, { url: '/spotify/me/playlists?limit=2&offset=1' })
  t.equal(response.statusCode, 200)
  const page = response.json()
  t.equal(page.limit, 2)
  t.equal(page.offset, 1)
  t.equal(page.items.length, 2)
  t.match(response.headers['content-type'], /application\/json/)
  const seen = emulator.control.apiRequests.at(-1)
  t.equal(seen?.method, 'GET')
  t.equal(seen?.path, '/v1/me/playlists')
  t.equal(seen?.query, 'limit=2&offset=1')
})

t.test('proxied POST forwards the JSON body and content type', async (t) => {
  const { login, request, emulator } = await build(t, {
    emulator: { recordBodies: true },
    plugin: { scopes: ['playlist-modify-private', 'playlist-read-private'] }
  })
  const { jar } = await login()
  const response = await request(jar, {
    method: 'POST',
    url: '/spotify/me/playlists',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'Road trip', public: false })
  })
  t.equal(response.statusCode, 201)
  t.equal(response.json().name, 'Road trip')
  const seen = emulator.control.apiRequests.at(-1)
  t.equal(seen?.method, 'POST')
  t.same(JSON.parse(seen?.body as string), { name: 'Road trip', public: false })
  t.match(seen?.headers['content-type'], /application\/json/)
})

t.test('upstream sees our bearer and none of the client\'s cookie, authorization, host or hop-by-hop headers', async (t) => {
  const { login, request, emulator } = await build(t)
  const { jar } = await login()
  emulator.control.clearApiRequests()
  const response = await request(jar, {
    url: '/spotify/me',
    headers: {
      authorization: 'Bearer client-supplied',
      'x-forwarded-for': '10.0.0.1',
      'proxy-authorization': 'Basic abc',
      te: 'trailers',
      'accept-language': 'fr',
      'if-none-match': '"abc"'
    }
  })
  t.equal(response.statusCode, 200)
  const headers = emulator.control.apiRequests.at(-1)?.headers ?? {}
  t.match(headers.authorization, /^Bearer BQ/)
  t.not(headers.authorization, 'Bearer client-supplied')
  t.equal(headers.cookie, undefined)
  t.equal(headers['x-forwarded-for'], undefined)
  t.equal(headers['proxy-authorization'], undefined)
  t.equal(headers.te, undefined)
  t.equal(headers['accept-language'], 'fr')
  t.equal(headers['if-none-match'], '"abc"')
  t.not(headers.host, 'localhost:80', 'the client\'s host is not forwarded')
})

t.test('only body, caching and rate-limit headers come back from upstream', async (t) => {
  const { login, request, emulator } = await build(t)
  const { jar } = await login()
  emulator.control.setApiResponseHeaders({
    'set-cookie': 'tracker=1; Path=/',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'access-control-allow-origin': '*',
    'alt-svc': 'h3=":443"',
    'x-upstream': 'yes',
    etag: '"v1"',
    'cache-control': 'private, max-age=0'
  })
  const response = await request(jar, { url: '/spotify/me' })
  t.equal(response.statusCode, 200)
  for (const dropped of ['set-cookie', 'strict-transport-security', 'access-control-allow-origin', 'alt-svc', 'x-upstream']) {
    t.equal(response.headers[dropped], undefined, `${dropped} stays behind`)
  }
  t.equal(response.headers.etag, 'W/"v1"', 'its links were rewritten: the validator is weak')
  t.equal(response.headers['cache-control'], 'private, max-age=0')
  t.match(response.headers['content-type'], /application\/json/)
})

t.test('HEAD keeps the upstream length; TRACE and other methods are not proxied', async (t) => {
  const { login, request, emulator } = await build(t)
  const { jar } = await login()
  const get = await request(jar, { url: '/spotify/me' })
  const head = await request(jar, { method: 'HEAD', url: '/spotify/me' })
  t.equal(head.statusCode, 200)
  t.equal(head.body, '')
  t.equal(head.headers['content-length'], String(Buffer.byteLength(get.body)))
  emulator.control.resetCounters()
  for (const method of ['TRACE', 'OPTIONS', 'QUERY']) {
    const response = await request(jar, { method, url: '/spotify/me' })
    t.ok([400, 404].includes(response.statusCode), `${method}: ${response.statusCode}, not proxied`)
  }
  t.equal(emulator.control.counters.api, 0, 'nothing reached the API')
})

/** A request whose path goes out byte for byte (inject would normalise `..`). */
function rawGet (origin: string, path: string, cookie: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(origin + '/', { path, headers: { cookie } }, (res) => {
      let body = ''
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode as number, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('path traversal and ambiguous paths answer 400 without any upstream call', async (t) => {
  const { login, app, emulator } = await build(t)
  const { jar } = await login()
  const origin = await app.listen({ port: 0, host: '127.0.0.1' })
  emulator.control.resetCounters()
  const attempts = [
    '/spotify/../v1/me', '/spotify/me/..', '/spotify/./me', '/spotify/me/%2e%2e/x', '/spotify/%2E%2E%2Fadmin',
    '/spotify/me/..%5cx', '/spotify/me%5c..', '/spotify//host/x', '/spotify/me//x', '/spotify/', '/spotify/%252e%252e/x',
    '/spotify/me/%2e', '/spotify/%25252525252e', '/spotify/%25zz', '/spotify/me%5Cx', '/spotify/me/x%2f%2f'
  ]
  for (const url of attempts) {
    const response = await rawGet(origin, url, jar.header)
    t.equal(response.status, 400, url)
    t.equal(JSON.parse(response.body).error.code, 'FST_SPOTIFY_INVALID_PATH', url)
  }
  // Fastify's router refuses malformed escapes itself, before any route runs.
  t.equal((await rawGet(origin, '/spotify/%zz', jar.header)).status, 400, '/spotify/%zz')
  t.equal(emulator.control.counters.api, 0, 'nothing reached the API')
})

t.test('no session: 401 without any upstream call', async (t) => {
  const { request, emulator } = await build(t)
  const anonymous = await request(new CookieJar(), { url: '/spotify/me' })
  t.equal(anonymous.statusCode, 401)
  t.same(anonymous.json(), { error: { status: 401, message: 'Not logged in with Spotify', code: 'FST_SPOTIFY_NO_SESSION' } })
  const forged = new CookieJar()
  forged.cookies.set('spotify_session', 'x'.repeat(43) + '.forged')
  t.equal((await request(forged, { url: '/spotify/me' })).statusCode, 401)
  t.equal(emulator.control.counters.api, 0)
})

t.test('upstream 401: one refresh, one retry', async (t) => {
  const { login, request, emulator } = await build(t, { plugin: { refreshCooldown: 0 } })
  const { jar } = await login()
  emulator.control.resetCounters()
  emulator.control.unauthorizeApiCalls(1)
  const response = await request(jar, { url: '/spotify/me' })
  t.equal(response.statusCode, 200)
  t.equal(emulator.control.counters.refresh_token, 1)
  t.equal(emulator.control.counters.api, 2)
})

t.test('upstream 401 twice: the second goes back to the client as it came', async (t) => {
  const { login, request, emulator } = await build(t, { plugin: { refreshCooldown: 0 } })
  const { jar } = await login()
  emulator.control.resetCounters()
  emulator.control.unauthorizeApiCalls(2)
  const response = await request(jar, { url: '/spotify/me' })
  t.equal(response.statusCode, 401)
  t.equal(response.json().error.status, 401)
  t.equal(emulator.control.counters.refresh_token, 1)
  t.equal(emulator.control.counters.api, 2)
})

t.test('upstream 401 after a logout elsewhere answers 401 with no retry', async (t) => {
  const { store, arm } = vanishingStore()
  const { login, request, emulator } = await build(t, { plugin: { store } })
  const { jar } = await login()
  arm()
  emulator.control.unauthorizeApiCalls(1)
  emulator.control.resetCounters()
  const response = await request(jar, { url: '/spotify/me' })
  t.equal(response.statusCode, 401)
  t.equal(response.json().error.code, 'FST_SPOTIFY_NO_SESSION')
  t.equal(emulator.control.counters.api, 1, 'no retry')
  t.equal(emulator.control.counters.refresh_token, 0, 'no refresh for a session that is gone')
})

t.test('refresh amplification: 401s to a token younger than refreshCooldown make no token call', async (t) => {
  const { login, request, emulator, app } = await build(t)
  const { jar } = await login()
  emulator.control.resetCounters()
  emulator.control.unauthorizeApiCalls(20)
  for (let i = 0; i < 20; i++) {
    const response = await request(jar, { url: '/spotify/me' })
    t.equal(response.statusCode, 401, 'the upstream 401 as it came')
  }
  t.equal(emulator.control.counters.refresh_token, 0, 'no refresh for a token just obtained')
  t.equal(emulator.control.counters.api, 20, 'no retry either')
  // Once the token is older than the cooldown, a 401 refreshes it again.
  const id = (jar.cookies.get('spotify_session') as string).split('.')[0] as string
  const stored = await app.spotify.store.get(id) as NonNullable<Awaited<ReturnType<typeof app.spotify.store.get>>>
  await app.spotify.store.update(id, stored, { ...stored, obtainedAt: stored.obtainedAt - 6, refreshes: stored.refreshes + 1 })
  emulator.control.unauthorizeApiCalls(1)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200)
  t.equal(emulator.control.counters.refresh_token, 1)
})

t.test('one trailing slash is forwarded as it is, as Spotify serves it', async (t) => {
  const { login, request, emulator } = await build(t)
  const { jar } = await login()
  const response = await request(jar, { url: '/spotify/me/' })
  t.equal(response.statusCode, 200)
  t.type(response.json().id, 'string')
  t.equal(emulator.control.apiRequests.at(-1)?.path, '/v1/me/')
  t.equal((await request(jar, { url: '/spotify/me//' })).statusCode, 400, 'two are an empty segment')
})

t.test('a case-insensitive router cannot smuggle a path past the prefix check', async (t) => {
  const { login, request, emulator } = await build(t, { fastify: { routerOptions: { caseSensitive: false } } })
  const { jar } = await login()
  emulator.control.resetCounters()
  const response = await request(jar, { url: '/SPOTIFY/me' })
  t.equal(response.statusCode, 400)
  t.equal(emulator.control.counters.api, 0)
})

t.test('upstream 429 passes through with Retry-After', async (t) => {
  const { login, request, emulator } = await build(t)
  const { jar } = await login()
  emulator.control.rateLimitApiCalls(1, 7)
  const response = await request(jar, { url: '/spotify/me' })
  t.equal(response.statusCode, 429)
  t.equal(response.headers['retry-after'], '7')
  t.equal(response.json().error.status, 429)
})

t.test('upstream 5xx passes through; upstream down 502; timeout 504', async (t) => {
  const { login, request, emulator } = await build(t, { plugin: { timeout: 300 } })
  const { jar } = await login()
  emulator.control.failApiCalls(1, 503)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 503)
  emulator.control.hangApiCalls(1)
  const hung = await request(jar, { url: '/spotify/me' })
  t.equal(hung.statusCode, 504)
  t.equal(hung.json().error.code, 'FST_SPOTIFY_UPSTREAM_TIMEOUT')
})

t.test('an unreachable Web API answers 502', async (t) => {
  // Logged in where the Web API answers (the login calls /v1/me), proxied
  // through an app sharing the store that cannot reach it.
  const store = memoryStore()
  const { login, emulator } = await build(t, { plugin: { store } })
  const { jar } = await login()
  const { request } = await build(t, { sharedEmulator: emulator, plugin: { store, apiUrl: await deadUrl() } })
  const response = await request(jar, { url: '/spotify/me' })
  t.equal(response.statusCode, 502)
  t.equal(response.json().error.code, 'FST_SPOTIFY_UPSTREAM_ERROR')
})

t.test('upstream redirects are passed back, not followed', async (t) => {
  const upstreamUrl = await fakeUpstream(t, (upstream) => {
    upstream.get('/v1/moved', async (_request, reply) => reply.redirect('https://elsewhere.invalid/x', 301))
  })
  const { login, request } = await build(t, { plugin: { apiUrl: upstreamUrl } })
  const { jar } = await login()
  const response = await request(jar, { url: '/spotify/moved' })
  t.equal(response.statusCode, 301)
  t.equal(response.headers.location, 'https://elsewhere.invalid/x')
})

t.test('the proxy can be turned off, and moved', async (t) => {
  const off = await build(t, { plugin: { proxyPrefix: false } })
  const { jar } = await off.login()
  t.equal((await off.request(jar, { url: '/spotify/me' })).statusCode, 404)

  const moved = await build(t, { plugin: { proxyPrefix: '/api/spotify' } })
  const session = await moved.login()
  t.equal((await moved.request(session.jar, { url: '/api/spotify/me' })).statusCode, 200)
})

t.test('a POST without a body is forwarded without one', async (t) => {
  const { login, request, emulator } = await build(t, { plugin: { scopes: ['playlist-modify-private'] } })
  const { jar } = await login()
  const response = await request(jar, { method: 'POST', url: '/spotify/me/playlists' })
  t.equal(response.statusCode, 400, 'the API\'s own answer to a missing body')
  const seen = emulator.control.apiRequests.at(-1)
  t.equal(seen?.method, 'POST')
  t.equal(seen?.body, '')
})
