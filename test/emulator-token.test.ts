import t from 'tap'
import { albums, playlists, tracks } from '../plugin/emulator/index.js'
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, api, basic, call, code, pkce, start, token } from './helpers/emulator-helpers.js'

const exchange = (c: string, extra: Record<string, string> = {}): Record<string, string> =>
  ({ grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT_URI, ...extra })

t.test('a code exchanges for Spotify-shaped tokens, with Basic or body credentials', async (t) => {
  const emulator = await start(t)
  const viaBasic = await token(emulator, exchange(code(emulator, { scope: 'user-read-email playlist-read-private' })))
  t.equal(viaBasic.status, 200)
  t.match(viaBasic.headers.get('content-type'), /^application\/json/)
  t.equal(viaBasic.headers.get('cache-control'), 'no-store')
  t.same(Object.keys(viaBasic.json).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
  t.match(viaBasic.json, {
    access_token: /^BQ[\w-]{150,}$/,
    token_type: 'Bearer',
    scope: 'user-read-email playlist-read-private',
    expires_in: 3600,
    refresh_token: /^AQ[\w-]{100,}$/
  })

  const viaBody = await token(emulator, exchange(code(emulator), { client_id: CLIENT_ID, client_secret: CLIENT_SECRET }), null)
  t.equal(viaBody.status, 200)
  t.equal(viaBody.json.scope, '')

  const both = await token(emulator, exchange(code(emulator), { client_id: CLIENT_ID }))
  t.equal(both.status, 200, 'the body may repeat the client id of the Basic header')

  const me = await api(emulator, '/v1/me', viaBasic.json.access_token)
  t.equal(me.status, 200)
  t.equal(me.json.id, 'alice')
  t.same(emulator.control.counters, { authorization_code: 3, refresh_token: 0, client_credentials: 0, api: 1 })
})

t.test('a form body with a charset parameter is read', async (t) => {
  const emulator = await start(t)
  const res = await call(`${emulator.url}/api/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', authorization: basic() },
    body: new URLSearchParams(exchange(code(emulator))).toString()
  })
  t.equal(res.status, 200)
})

t.test('client authentication failures answer 400 invalid_client', async (t) => {
  const emulator = await start(t)
  const WRONG_SECRET = 'Invalid client secret'
  const cases: Array<[string, Record<string, string>, string | null, string?]> = [
    ['wrong secret', {}, basic(CLIENT_ID, 'wrong'), WRONG_SECRET],
    ['unknown client', {}, basic('who', CLIENT_SECRET)],
    ['wrong secret of the same length', {}, basic(CLIENT_ID, CLIENT_SECRET.replace(/.$/, 'x')), WRONG_SECRET],
    ['wrong secret in body', { client_id: CLIENT_ID, client_secret: 'wrong' }, null, WRONG_SECRET],
    ['no credentials', {}, null],
    ['not Basic', {}, 'Bearer abc'],
    ['Basic without a colon', {}, 'Basic ' + Buffer.from('justid').toString('base64')],
    ['Basic that is not base64', {}, 'Basic ***'],
    ['body names another client than the header', { client_id: 'other' }, basic()],
    ['secret missing for a code without PKCE', { client_id: CLIENT_ID }, null]
  ]
  for (const [name, extra, auth, description = 'Invalid client'] of cases) {
    const c = code(emulator)
    const res = await token(emulator, exchange(c, extra), auth)
    t.equal(res.status, 400, name)
    t.match(res.headers.get('content-type'), /^application\/json/)
    t.same(res.json, { error: 'invalid_client', error_description: description }, name)
    // The code was not burnt by a client that failed to authenticate.
    t.equal((await token(emulator, exchange(c))).status, 200, `${name}: the code still works for its client`)
  }
})

t.test('grant_type is required and must be one of the three supported', async (t) => {
  const emulator = await start(t)
  let res = await token(emulator, { code: 'x' })
  t.same(res.json, { error: 'unsupported_grant_type', error_description: 'grant_type parameter is missing' })
  t.equal(res.status, 400)
  res = await token(emulator, { grant_type: 'password' })
  t.equal(res.status, 400)
  t.same(res.json, { error: 'unsupported_grant_type', error_description: 'grant_type must be authorization_code, refresh_token or client_credentials' })
  res = await call(`${emulator.url}/api/token`, { method: 'POST', headers: { authorization: basic() } })
  t.equal(res.json.error, 'unsupported_grant_type', 'no body at all')
  res = await call(`${emulator.url}/api/token`, {
    method: 'POST',
    headers: { authorization: basic(), 'content-type': 'application/json' },
    body: JSON.stringify(exchange('x'))
  })
  t.equal(res.json.error, 'unsupported_grant_type', 'a JSON body is not read')
  t.same(emulator.control.counters, { authorization_code: 0, refresh_token: 0, client_credentials: 0, api: 0 })
})

t.test('missing code or redirect_uri answer invalid_request', async (t) => {
  const emulator = await start(t)
  let res = await token(emulator, { grant_type: 'authorization_code', redirect_uri: REDIRECT_URI })
  t.equal(res.status, 400)
  t.equal(res.json.error, 'invalid_request')
  res = await token(emulator, { grant_type: 'authorization_code', code: code(emulator) })
  t.equal(res.json.error, 'invalid_request')
  res = await token(emulator, { grant_type: 'refresh_token' })
  t.equal(res.json.error, 'invalid_request')
  t.same(emulator.control.counters, { authorization_code: 2, refresh_token: 1, client_credentials: 0, api: 0 }, 'failed calls count too')
})

t.test('codes are single use and unknown codes are refused', async (t) => {
  const emulator = await start(t)
  const c = code(emulator)
  t.equal((await token(emulator, exchange(c))).status, 200)
  const again = await token(emulator, exchange(c))
  t.equal(again.status, 400)
  t.same(again.json, { error: 'invalid_grant', error_description: 'Invalid authorization code' })
  const unknown = await token(emulator, exchange('AQnotacode'))
  t.same(unknown.json, { error: 'invalid_grant', error_description: 'Invalid authorization code' })
})

t.test('a code is bound to its client', async (t) => {
  const emulator = await start(t)
  emulator.control.addClient({ clientId: 'other', clientSecret: 'other-secret', redirectUris: [REDIRECT_URI] })
  const res = await token(emulator, exchange(code(emulator)), basic('other', 'other-secret'))
  t.same(res.json, { error: 'invalid_grant', error_description: 'Invalid authorization code' })
})

t.test('a code expires after codeTtl', async (t) => {
  let now = 1_000_000
  const emulator = await start(t, { now: () => now, codeTtl: 30 })
  const fresh = code(emulator)
  const stale = code(emulator)
  now += 29_999
  t.equal((await token(emulator, exchange(fresh))).status, 200)
  now += 1
  const res = await token(emulator, exchange(stale))
  t.equal(res.status, 400)
  t.same(res.json, { error: 'invalid_grant', error_description: 'Authorization code expired' })
})

t.test('the redirect_uri must be the one the code was issued for', async (t) => {
  const other = 'http://127.0.0.1:5543/other'
  const emulator = await start(t, { clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI, other] }] })
  const c = code(emulator)
  const res = await token(emulator, exchange(c, { redirect_uri: other }))
  t.same(res.json, { error: 'invalid_grant', error_description: 'Invalid redirect URI' })
  t.equal((await token(emulator, exchange(c))).status, 400, 'the failed attempt burnt the code')
})

t.test('PKCE: the verifier must match, and a public client needs no secret', async (t) => {
  const emulator = await start(t)
  const { verifier, challenge } = pkce()
  const withPkce = { code_challenge: challenge, code_challenge_method: 'S256' }

  const publicClient = await token(emulator, exchange(code(emulator, withPkce), { client_id: CLIENT_ID, code_verifier: verifier }), null)
  t.equal(publicClient.status, 200)
  t.ok(publicClient.json.refresh_token)

  const confidential = await token(emulator, exchange(code(emulator, withPkce), { code_verifier: verifier }))
  t.equal(confidential.status, 200, 'with the secret as well')

  const wrong: Array<Record<string, string>> = [{ code_verifier: pkce().verifier }, { code_verifier: '' }]
  for (const extra of wrong) {
    const res = await token(emulator, exchange(code(emulator, withPkce), { client_id: CLIENT_ID, ...extra }), null)
    t.equal(res.status, 400)
    t.same(res.json, { error: 'invalid_grant', error_description: 'code_verifier was incorrect' })
  }
  const missing = await token(emulator, exchange(code(emulator, withPkce), { client_id: CLIENT_ID }), null)
  t.equal(missing.status, 400)
  t.same(missing.json, { error: 'invalid_request', error_description: 'code_verifier required' })

  const unexpected = await token(emulator, exchange(code(emulator), { code_verifier: verifier }))
  t.same(unexpected.json, { error: 'invalid_grant', error_description: 'code_verifier was incorrect' }, 'a verifier for a code issued without a challenge')

  // The public client's refresh token refreshes with the client id alone.
  const refreshed = await token(emulator, { grant_type: 'refresh_token', refresh_token: publicClient.json.refresh_token, client_id: CLIENT_ID }, null)
  t.equal(refreshed.status, 200)
  // So does one from a PKCE code exchanged with the secret; one from a code without PKCE does not.
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: confidential.json.refresh_token, client_id: CLIENT_ID }, null)).status, 200)
  const plain = await token(emulator, exchange(code(emulator)))
  const denied = await token(emulator, { grant_type: 'refresh_token', refresh_token: plain.json.refresh_token, client_id: CLIENT_ID }, null)
  t.same(denied.json, { error: 'invalid_client', error_description: 'Invalid client' })
})

t.test('refresh responses carry neither refresh_token nor scope by default; the refresh token stays valid', async (t) => {
  const emulator = await start(t)
  const first = await token(emulator, exchange(code(emulator, { scope: 'user-read-private' })))
  const res = await token(emulator, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token, scope: 'user-read-email' })
  t.equal(res.status, 200)
  t.equal(res.headers.get('cache-control'), 'no-store')
  t.same(Object.keys(res.json).sort(), ['access_token', 'expires_in', 'token_type'])
  t.not(res.json.access_token, first.json.access_token)
  t.equal(res.json.token_type, 'Bearer')
  t.equal(res.json.expires_in, 3600)
  t.equal((await api(emulator, '/v1/me', first.json.access_token)).status, 200, 'the old access token stays valid')
  t.equal((await api(emulator, '/v1/me', res.json.access_token)).status, 200)
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token })).status, 200, 'the same refresh token again')
  t.equal(emulator.control.counters.refresh_token, 2)

  emulator.control.setOmitRefreshToken(false)
  emulator.control.setOmitRefreshScope(false)
  const full = await token(emulator, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token, scope: 'user-read-email' })
  t.equal(full.json.refresh_token, first.json.refresh_token, 'omitRefreshToken off: the current refresh token is repeated')
  t.equal(full.json.scope, 'user-read-private', 'a scope parameter cannot widen the grant')
})

t.test('options.omitRefreshToken and omitRefreshScope false put both fields back from the start', async (t) => {
  const emulator = await start(t, { omitRefreshToken: false, omitRefreshScope: false })
  const first = await token(emulator, exchange(code(emulator, { scope: 'user-read-email' })))
  const res = await token(emulator, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token })
  t.match(res.json, { refresh_token: first.json.refresh_token, scope: 'user-read-email' })
})

t.test('a refresh token dies six calendar months after the authorization, whatever the refreshes', async (t) => {
  let now = Date.UTC(2026, 0, 31, 12)
  const emulator = await start(t, { now: () => now, rotateRefreshTokens: true })
  const first = await token(emulator, exchange(code(emulator)))
  let current = first.json.refresh_token
  // Refresh every month: rotation hands out new tokens, none lives longer.
  for (let month = 1; month <= 5; month++) {
    now = Date.UTC(2026, month, 1, 12)
    const res = await token(emulator, { grant_type: 'refresh_token', refresh_token: current })
    t.equal(res.status, 200, `month ${month}`)
    current = res.json.refresh_token
  }
  now = Date.UTC(2026, 6, 31, 11, 59, 59, 999)
  const lastMoment = await token(emulator, { grant_type: 'refresh_token', refresh_token: current })
  t.equal(lastMoment.status, 200, 'still alive a millisecond before six months')
  current = lastMoment.json.refresh_token
  now = Date.UTC(2026, 6, 31, 12)
  const expired = await token(emulator, { grant_type: 'refresh_token', refresh_token: current })
  t.equal(expired.status, 400)
  t.same(expired.json, { error: 'invalid_grant', error_description: 'Refresh token expired' })
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: current })).json.error_description, 'Invalid refresh token', 'and is forgotten')

  // A new authorization starts a new six months.
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: (await token(emulator, exchange(code(emulator)))).json.refresh_token })).status, 200)
})

t.test('refreshTokenTtl sets the lifetime in seconds, as an option and as a control', async (t) => {
  let now = 1_000_000
  const emulator = await start(t, { now: () => now, refreshTokenTtl: 60 })
  const minted = emulator.control.issueTokens('alice', [])
  now += 59_999
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: minted.refresh_token })).status, 200)
  now += 1
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: minted.refresh_token })).json.error, 'invalid_grant')

  emulator.control.setRefreshTokenTtl(10)
  const shorter = emulator.control.issueTokens('alice', [])
  now += 10_000
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: shorter.refresh_token })).json.error, 'invalid_grant')
  t.throws(() => emulator.control.setRefreshTokenTtl(-1), RangeError)
  await t.rejects(start(t, { refreshTokenTtl: 0 }), /options\.refreshTokenTtl must be a positive integer/)
})

t.test('client_credentials: an app token without user, scope or refresh token', async (t) => {
  const emulator = await start(t)
  const res = await token(emulator, { grant_type: 'client_credentials' })
  t.equal(res.status, 200)
  t.equal(res.headers.get('cache-control'), 'no-store')
  t.same(Object.keys(res.json).sort(), ['access_token', 'expires_in', 'token_type'])
  t.match(res.json, { access_token: /^BQ/, token_type: 'Bearer', expires_in: 3600 })
  const viaBody = await token(emulator, { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }, null)
  t.equal(viaBody.status, 200)

  const me = await api(emulator, '/v1/me', res.json.access_token)
  t.equal(me.status, 403, 'no user: /me endpoints refuse it')
  t.same(me.json, { error: { status: 403, message: 'Insufficient client scope' } })
  t.equal((await api(emulator, '/v1/me/playlists', res.json.access_token)).status, 403)
  t.equal((await api(emulator, `/v1/tracks/${tracks[0]!.id}`, res.json.access_token)).status, 200, 'the catalogue serves it')
  const playlist = await api(emulator, `/v1/playlists/${playlists[0]!.id}`, res.json.access_token)
  t.equal(playlist.status, 200, 'public playlists too')
  t.notOk('items' in playlist.json, 'without entries: an app owns no playlist')

  const publicOnly = await token(emulator, { grant_type: 'client_credentials', client_id: CLIENT_ID }, null)
  t.same(publicOnly.json, { error: 'invalid_client', error_description: 'Invalid client' }, 'the grant needs the secret')
  t.same((await token(emulator, { grant_type: 'client_credentials' }, basic(CLIENT_ID, 'nope'))).json.error_description, 'Invalid client secret')
  t.equal(emulator.control.counters.client_credentials, 4, 'counted by grant type, failures included')
  t.equal(emulator.control.counters.authorization_code, 0)

  const minted = emulator.control.issueAppToken()
  t.equal((await api(emulator, `/v1/albums/${albums[0]!.id}`, minted.access_token)).status, 200)
  t.throws(() => emulator.control.issueAppToken('nobody'), /unknown client nobody/)
})

t.test('rotation issues a new refresh token and invalidates the old one', async (t) => {
  const emulator = await start(t, { rotateRefreshTokens: true })
  const first = await token(emulator, exchange(code(emulator)))
  const rotated = await token(emulator, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token })
  t.equal(rotated.status, 200)
  t.match(rotated.json.refresh_token, /^AQ/)
  t.not(rotated.json.refresh_token, first.json.refresh_token)
  const old = await token(emulator, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token })
  t.same(old.json, { error: 'invalid_grant', error_description: 'Invalid refresh token' })
  t.equal((await api(emulator, '/v1/me', first.json.access_token)).status, 200, 'access tokens of a rotated refresh token stay valid')
  emulator.control.setRotateRefreshTokens(false)
  const kept = await token(emulator, { grant_type: 'refresh_token', refresh_token: rotated.json.refresh_token })
  t.equal(kept.status, 200)
  t.notOk('refresh_token' in kept.json, 'back to the default: none sent, the current one stays')
})

t.test('omitRefreshToken (the default) leaves refresh_token out of refresh responses', async (t) => {
  const emulator = await start(t)
  const first = await token(emulator, exchange(code(emulator)))
  t.ok(first.json.refresh_token, 'the code exchange still has one')
  const res = await token(emulator, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token })
  t.equal(res.status, 200)
  t.notOk('refresh_token' in res.json)
  const again = await token(emulator, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token })
  t.equal(again.status, 200, 'the old refresh token keeps working')
  emulator.control.setOmitRefreshToken(false)
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token })).json.refresh_token, first.json.refresh_token)
})

t.test('a refresh token is bound to its client', async (t) => {
  const emulator = await start(t)
  emulator.control.addClient({ clientId: 'other', clientSecret: 'other-secret', redirectUris: [REDIRECT_URI] })
  const first = await token(emulator, exchange(code(emulator)))
  const res = await token(emulator, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token }, basic('other', 'other-secret'))
  t.same(res.json, { error: 'invalid_grant', error_description: 'Invalid refresh token' })
})

t.test('revoked refresh tokens answer invalid_grant, described as revoked (as Spotify does)', async (t) => {
  const emulator = await start(t)
  const a = await token(emulator, exchange(code(emulator)))
  const b = await token(emulator, exchange(code(emulator)))
  emulator.control.revokeRefreshToken(a.json.refresh_token)
  const res = await token(emulator, { grant_type: 'refresh_token', refresh_token: a.json.refresh_token })
  t.equal(res.status, 400)
  t.same(res.json, { error: 'invalid_grant', error_description: 'Refresh token revoked' })
  t.equal((await api(emulator, '/v1/me', a.json.access_token)).status, 200, 'its access token lives until expiry')
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: b.json.refresh_token })).status, 200)

  emulator.control.revokeAll()
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: b.json.refresh_token })).json.error, 'invalid_grant')
  const me = await api(emulator, '/v1/me', b.json.access_token)
  t.equal(me.status, 401)
  t.same(me.json, { error: { status: 401, message: 'Invalid access token' } })
})

t.test('issueTokens mints working tokens without the browser', async (t) => {
  const emulator = await start(t, { accessTokenTtl: 120 })
  emulator.control.addClient({ clientId: 'second', clientSecret: 'second-secret', redirectUris: [REDIRECT_URI] })
  const minted = emulator.control.issueTokens('carol', ['user-read-email', 'user-read-email'])
  t.match(minted, { token_type: 'Bearer', scope: 'user-read-email', expires_in: 120, access_token: /^BQ/, refresh_token: /^AQ/ })
  t.equal((await api(emulator, '/v1/me', minted.access_token)).json.id, 'carol')
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: minted.refresh_token })).status, 200)

  const forSecond = emulator.control.issueTokens('bob', [], 'second')
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: forSecond.refresh_token })).status, 400, 'bound to the client it was minted for')
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: forSecond.refresh_token }, basic('second', 'second-secret'))).status, 200)

  t.throws(() => emulator.control.issueTokens('mallory', []), /unknown user/)
  t.throws(() => emulator.control.issueTokens('bob', [], 'nope'), /unknown client/)
  t.throws(() => emulator.control.issueTokens('bob', ['nope']), /unknown scope nope/)
})

t.test('setAccessTokenTtl applies to tokens issued afterwards', async (t) => {
  const emulator = await start(t)
  emulator.control.setAccessTokenTtl(5)
  const res = await token(emulator, exchange(code(emulator)))
  t.equal(res.json.expires_in, 5)
  t.throws(() => emulator.control.setAccessTokenTtl(-1), RangeError)
  t.throws(() => emulator.control.setAccessTokenTtl(1.5), RangeError)
})

t.test('failTokenCalls answers the next calls with an error status and OAuth body', async (t) => {
  const emulator = await start(t)
  emulator.control.failTokenCalls(2)
  for (let i = 0; i < 2; i++) {
    const res = await token(emulator, exchange(code(emulator)))
    t.equal(res.status, 503)
    t.match(res.headers.get('content-type'), /^application\/json/)
    t.same(res.json, { error: 'server_error', error_description: 'Service unavailable' })
  }
  t.equal((await token(emulator, exchange(code(emulator)))).status, 200, 'then it recovers')
  t.equal(emulator.control.counters.authorization_code, 3, 'failed calls are counted')

  emulator.control.failTokenCalls(1, 429)
  t.same((await token(emulator, { grant_type: 'refresh_token', refresh_token: 'x' })).json, { error: 'temporarily_unavailable', error_description: 'Too many requests' })
  emulator.control.failTokenCalls(1, 400)
  const bad = await token(emulator, { grant_type: 'refresh_token', refresh_token: 'x' })
  t.equal(bad.status, 400)
  t.equal(bad.json.error, 'invalid_request')
  emulator.control.failTokenCalls(1, 500)
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: 'x' })).json.error_description, 'Internal server error')
  emulator.control.failTokenCalls(0)
  t.equal((await token(emulator, { grant_type: 'refresh_token', refresh_token: 'x' })).status, 400, 'zero disarms')
  t.equal(emulator.control.counters.refresh_token, 4)

  t.throws(() => emulator.control.failTokenCalls(1, 200), RangeError)
  t.throws(() => emulator.control.failTokenCalls(1, 600), RangeError)
  t.throws(() => emulator.control.failTokenCalls(-1), RangeError)
  t.throws(() => emulator.control.failTokenCalls(1.5), RangeError)
})

t.test('hangTokenCalls holds calls open until close() drops them', async (t) => {
  const emulator = await start(t)
  emulator.control.hangTokenCalls(1)
  const hung = token(emulator, exchange(code(emulator)))
  let settled = false
  const watched = hung.then(() => { settled = true }, (err: unknown) => { settled = true; throw err })
  // A call after the hung one is answered normally.
  t.equal((await token(emulator, exchange(code(emulator)))).status, 200)
  t.equal(settled, false, 'the hung call is still open')
  t.equal(emulator.control.counters.authorization_code, 2)
  await emulator.close()
  await t.rejects(watched, 'the client sees the connection end')
})

t.test('a token body over the size limit answers in the OAuth shape', async (t) => {
  const emulator = await start(t)
  const res = await call(`${emulator.url}/api/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
    body: 'grant_type=authorization_code&code=' + 'a'.repeat(1_100_000)
  })
  t.equal(res.status, 413)
  t.same(res.json, { error: 'invalid_request', error_description: 'Payload too large' })
})
