import t from 'tap'
import { build, CLIENT_ID, CLIENT_SECRET } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

t.test('fastify.spotify.app: one Client Credentials token for every caller, no user', async (t) => {
  const { app, emulator } = await build(t, { emulator: { accessTokenTtl: 3600 } })
  emulator.control.resetCounters()
  const results = await Promise.all(Array.from({ length: 100 }, () => app.spotify.app.getToken()))
  t.equal(emulator.control.counters.client_credentials, 1, '100 concurrent callers, 1 token call')
  t.equal(new Set(results.map((r) => r.accessToken)).size, 1)
  const found = await app.spotify.app.api.get('search', { searchParams: { q: 'a', type: 'track', limit: 2 } }).json<{ tracks: { items: unknown[] } }>()
  t.ok(found.tracks.items.length > 0, 'catalog calls work')
  const me = await app.spotify.app.api.get('me', { throwHttpErrors: false })
  t.equal(me.statusCode, 403, 'an app token acts for no user: /me is refused')
  t.equal(emulator.control.counters.client_credentials, 1, 'the token was kept')
  await t.rejects(app.spotify.app.api.get('http://127.0.0.1:9/v1/search'), { code: 'FST_SPOTIFY_FOREIGN_URL' }, 'the same host rule')
})

t.test('the app token is fetched again before it expires, and after a 401 once it is old enough', async (t) => {
  const { app, emulator } = await build(t, { emulator: { accessTokenTtl: 30 }, plugin: { refreshCooldown: 0 } })
  emulator.control.resetCounters()
  const first = await app.spotify.app.getToken()
  const second = await app.spotify.app.getToken()
  t.not(second.accessToken, first.accessToken, 'a 30 s token is within the 60 s margin: fetched again')
  t.equal(emulator.control.counters.client_credentials, 2)
  emulator.control.setAccessTokenTtl(3600)
  const third = await app.spotify.app.getToken()
  t.equal((await app.spotify.app.getToken()).accessToken, third.accessToken, 'a one-hour token is kept')
  emulator.control.unauthorizeApiCalls(1)
  const found = await app.spotify.app.api.get('tracks/x', { throwHttpErrors: false })
  t.equal(emulator.control.counters.client_credentials, 4, 'a 401: one new token')
  t.not(found.statusCode, 401, 'and one retry')
})

t.test('a 401 to a young app token is passed on; a refused client is 502', async (t) => {
  const { app, emulator } = await build(t)
  await app.spotify.app.getToken()
  emulator.control.resetCounters()
  emulator.control.unauthorizeApiCalls(3)
  const response = await app.spotify.app.api.get('tracks/x', { throwHttpErrors: false })
  t.equal(response.statusCode, 401)
  t.equal(emulator.control.counters.client_credentials, 0, 'no token call for a token just fetched')

  const refusing = await fakeUpstream(t, (upstream) => {
    upstream.post('/api/token', async (_request, reply) => reply.code(401).send({ error: 'invalid_client', error_description: 'Invalid client' }))
    upstream.post('/down/api/token', async (_request, reply) => reply.code(503).send('down'))
  })
  const misconfigured = await build(t, { sharedEmulator: emulator, plugin: { accountsUrl: refusing, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } })
  await t.rejects(misconfigured.app.spotify.app.getToken(), { code: 'FST_SPOTIFY_UPSTREAM_ERROR', statusCode: 502 })
  const down = await build(t, { sharedEmulator: emulator, plugin: { accountsUrl: `${refusing}/down` } })
  await t.rejects(down.app.spotify.app.api.get('search'), { code: 'FST_SPOTIFY_UPSTREAM_ERROR' })
})
