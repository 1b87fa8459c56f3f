import t from 'tap'
import { albums } from '../plugin/emulator/index.js'
import { api, call, start, REDIRECT_URI } from './helpers/emulator-helpers.js'

t.test('the quota counts a client id\'s calls over a rolling window, then answers QUOTA_EXCEEDED until the oldest leaves it', async (t) => {
  let now = 1_000_000
  const emulator = await start(t, {
    now: () => now,
    clients: [
      { clientId: 'one', clientSecret: 's', redirectUris: [REDIRECT_URI] },
      { clientId: 'two', clientSecret: 's', redirectUris: [REDIRECT_URI] }
    ]
  })
  const one = emulator.control.issueTokens('alice', [], 'one').access_token
  const two = emulator.control.issueTokens('alice', [], 'two').access_token
  emulator.control.setQuota(3, 60)
  t.equal((await api(emulator, '/v1/me', one)).status, 200)
  now += 20_000
  t.equal((await api(emulator, '/v1/me', one)).status, 200)
  t.equal((await api(emulator, '/v1/me', one)).status, 200)
  let spent = await api(emulator, '/v1/me', one)
  t.equal(spent.status, 429)
  t.same(spent.json, { error: { status: 429, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' } })
  t.equal(spent.headers.get('retry-after'), '40', 'until the first call, 20 s ago, leaves the 60 s window')
  t.equal((await api(emulator, '/v1/me', two)).status, 200, 'another client id has a quota of its own')
  now += 39_000
  spent = await api(emulator, '/v1/me', one)
  t.equal(spent.headers.get('retry-after'), '1', 'refused calls count nothing')
  now += 1000
  t.equal((await api(emulator, '/v1/me', one)).status, 200, 'the oldest call left the window: one more')
  t.equal((await api(emulator, '/v1/me', one)).status, 429)
  emulator.control.resetQuota()
  t.equal((await api(emulator, '/v1/me', one)).status, 200, 'resetQuota forgets the calls')
  emulator.control.rateLimitApiCalls(1, 2)
  const limited = await api(emulator, '/v1/me', two)
  t.equal(limited.status, 429, 'the short rate limit stays as it was')
  t.notOk(limited.json.error.reason, 'and carries no reason')
  t.throws(() => { emulator.control.setQuota(0, 60) }, RangeError)
  t.throws(() => { emulator.control.setQuota(1, 0) }, RangeError)
  t.throws(() => { emulator.control.setQuota(1.5, 60) }, RangeError)
})

t.test('calls are counted by endpoint, in the control and on a route of the emulator', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('alice', ['playlist-read-private']).access_token
  await api(emulator, '/v1/me', token)
  await api(emulator, '/v1/me', token)
  await api(emulator, '/v1/me/playlists', token)
  await api(emulator, `/v1/albums/${albums[0]!.id}`, token)
  await api(emulator, '/v1/nowhere', token)
  const expected = { 'GET /v1/me': 2, 'GET /v1/me/playlists': 1, 'GET /v1/albums/:id': 1, 'GET unknown': 1 }
  t.same(emulator.control.apiCallsByEndpoint, expected)
  const served = await call(`${emulator.url}/emulator/counters`)
  t.match(served.json, { api: 5, byEndpoint: expected })
  emulator.control.resetCounters()
  t.same(emulator.control.apiCallsByEndpoint, {})
})

t.test('GET answers carry an ETag and Spotify\'s Cache-Control; a matching If-None-Match is a 304', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('alice', []).access_token
  const me = await api(emulator, '/v1/me', token)
  t.equal(me.headers.get('cache-control'), 'private, max-age=0', 'a user\'s data: keep it only to revalidate')
  const etag = me.headers.get('etag') as string
  t.match(etag, /^"[\w-]+"$/, 'a strong validator')
  t.equal((await api(emulator, '/v1/me', token)).headers.get('etag'), etag, 'the same body, the same ETag')
  const album = await api(emulator, `/v1/albums/${albums[0]!.id}`, token)
  t.equal(album.headers.get('cache-control'), 'public, max-age=7200', 'catalog data')
  for (const asked of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const again = await api(emulator, '/v1/me', token, { headers: { 'if-none-match': asked } })
    t.equal(again.status, 304, asked)
    t.equal(again.text, '')
    t.equal(again.headers.get('etag'), etag)
  }
  const changed = await api(emulator, '/v1/me', token, { headers: { 'if-none-match': '"other"' } })
  t.equal(changed.status, 200)
  t.equal((await api(emulator, '/v1/me', token, { method: 'HEAD' })).headers.get('etag'), null, 'only GETs')
  emulator.control.setApiResponseHeaders({ etag: '"chosen"', 'cache-control': 'no-store' })
  const chosen = await api(emulator, '/v1/me', token, { headers: { 'if-none-match': '"chosen"' } })
  t.equal(chosen.status, 304, 'a test\'s own headers win, and are matched')
  t.equal(chosen.headers.get('cache-control'), 'no-store')
})
