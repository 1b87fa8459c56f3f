import t from 'tap'
import { api, call, start, token } from './helpers/emulator-helpers.js'

t.test('CORS preflights are answered for /v1 and /api/token', async (t) => {
  const emulator = await start(t)
  const preflight = (path: string): Promise<Response> => fetch(`${emulator.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin: 'http://127.0.0.1:3000', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' }
  })
  const apiPreflight = await preflight('/v1/me/playlists')
  t.equal(apiPreflight.status, 204)
  t.equal(apiPreflight.headers.get('access-control-allow-origin'), '*')
  t.match(apiPreflight.headers.get('access-control-allow-methods'), /\bDELETE\b/)
  t.match(apiPreflight.headers.get('access-control-allow-headers'), /\bAuthorization\b/)
  t.equal(emulator.control.counters.api, 0, 'preflights carry no token and are no API calls')

  const tokenPreflight = await preflight('/api/token')
  t.equal(tokenPreflight.status, 204)
  t.equal(tokenPreflight.headers.get('access-control-allow-origin'), '*')
  t.match(tokenPreflight.headers.get('access-control-allow-headers'), /Content-Type/)
})

t.test('responses of /v1 and /api/token allow any origin; the accounts pages do not', async (t) => {
  const emulator = await start(t)
  const user = emulator.control.issueTokens('alice', []).access_token
  for (const res of [await api(emulator, '/v1/me', user), await api(emulator, '/v1/me'), await api(emulator, '/v1/nowhere', user)]) {
    t.equal(res.headers.get('access-control-allow-origin'), '*')
  }
  t.equal((await token(emulator, { grant_type: 'client_credentials' })).headers.get('access-control-allow-origin'), '*')
  t.equal((await call(`${emulator.url}/authorize`)).headers.get('access-control-allow-origin'), null)
})

t.test('a trailing slash is served like the path without it', async (t) => {
  const emulator = await start(t)
  const user = emulator.control.issueTokens('alice', []).access_token
  const plain = await api(emulator, '/v1/me', user)
  const slashed = await api(emulator, '/v1/me/', user)
  t.equal(slashed.status, 200)
  t.same(slashed.json, plain.json)
  t.equal((await api(emulator, '/v1/me/playlists/?limit=2', user)).json.limit, 2)
})
