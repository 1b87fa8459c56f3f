import { createServer } from 'node:net'
import t from 'tap'
import {
  albums, artists, createSpotifyEmulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, libraries, playlists, SCOPES, tracks, users
} from '../plugin/emulator/index.js'
import { errorStatus, oauthErrorCode, statusMessage } from '../plugin/emulator/http.js'
import { spotifyId } from '../plugin/emulator/fixtures.js'
import { api, call, code, start, token } from './helpers/emulator-helpers.js'

t.test('the emulator listens on 127.0.0.1 and one URL serves accounts and API', async (t) => {
  const emulator = await start(t)
  t.match(emulator.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.equal(emulator.accountsUrl, emulator.url)
  t.equal(emulator.apiUrl, emulator.url)
  t.equal(DEFAULT_CLIENT_ID, 'emulator-client-id')
  t.equal(DEFAULT_CLIENT_SECRET, 'emulator-client-secret')
})

t.test('an IPv6 host is bracketed in the URL', async (t) => {
  const emulator = await start(t, { host: '::1' })
  t.match(emulator.url, /^http:\/\/\[::1\]:\d+$/)
  t.equal((await call(`${emulator.url}/v1/me`)).status, 401)
})

t.test('close() is idempotent and stops the server', async (t) => {
  const emulator = await createSpotifyEmulator({ logger: { level: 'silent' } })
  await emulator.close()
  await emulator.close()
  await t.rejects(call(`${emulator.url}/v1/me`))
})

t.test('a port in use rejects and leaves nothing running', async (t) => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const { port } = server.address() as { port: number }
  await t.rejects(createSpotifyEmulator({ port }), { code: 'EADDRINUSE' })
})

t.test('invalid options are refused with the option named', async (t) => {
  const bad: Array<[object, RegExp]> = [
    [{ accessTokenTtl: 0 }, /options\.accessTokenTtl/],
    [{ accessTokenTtl: 1.5 }, /options\.accessTokenTtl/],
    [{ codeTtl: -1 }, /options\.codeTtl/],
    [{ rotateRefreshTokens: 'yes' }, /options\.rotateRefreshTokens/],
    [{ recordRequests: -1 }, /options\.recordRequests must be a whole number/],
    [{ recordBodies: 1 }, /options\.recordBodies must be a boolean/],
    [{ omitRefreshToken: 1 }, /options\.omitRefreshToken/],
    [{ clients: [] }, /options\.clients/],
    [{ clients: 'x' }, /options\.clients/],
    [{ now: 5 }, /options\.now/],
    [{ autoApprove: 'mallory' }, /options\.autoApprove/],
    [{ autoApprove: 1 }, /options\.autoApprove/],
    [{ clients: [{ clientSecret: 's', redirectUris: ['http://127.0.0.1/cb'] }] }, /clientId/],
    [{ clients: [{ clientId: 'a:b', clientSecret: 's', redirectUris: ['http://127.0.0.1/cb'] }] }, /clientId/],
    [{ clients: [null] }, /clientId/],
    [{ clients: [{ clientId: 'a', clientSecret: '', redirectUris: ['http://127.0.0.1/cb'] }] }, /clientSecret/],
    [{ clients: [{ clientId: 'a', clientSecret: 's', redirectUris: [] }] }, /redirectUris/],
    [{ clients: [{ clientId: 'a', clientSecret: 's' }] }, /redirectUris/],
    [{ clients: [{ clientId: 'a', clientSecret: 's', redirectUris: ['/cb'] }] }, /redirectUris/],
    [{ clients: [{ clientId: 'a', clientSecret: 's', redirectUris: [5] }] }, /redirectUris/],
    [{ clients: [{ clientId: 'a', clientSecret: 's', redirectUris: ['http://127.0.0.1/cb#x'] }] }, /redirectUris/],
    [{ clients: [{ clientId: 'a', clientSecret: 's', redirectUris: ['http://u:p@127.0.0.1/cb'] }] }, /redirectUris/],
    [{ clients: [{ clientId: 'a', clientSecret: 's', redirectUris: ['http://user@127.0.0.1/cb'] }] }, /redirectUris/],
    [{ clients: [{ clientId: 'a', clientSecret: 's', redirectUris: ['http://127.0.0.1/a'] }, { clientId: 'a', clientSecret: 't', redirectUris: ['http://127.0.0.1/b'] }] }, /already registered/]
  ]
  for (const [options, message] of bad) {
    await t.rejects(createSpotifyEmulator(options as never), message, JSON.stringify(options))
  }
})

t.test('explicit defaults behave like the defaults', async (t) => {
  const emulator = await start(t, { autoApprove: false, rotateRefreshTokens: false, omitRefreshToken: false, logger: false, port: 0, host: '127.0.0.1' })
  const res = await call(`${emulator.url}/authorize?client_id=${DEFAULT_CLIENT_ID}&response_type=code&redirect_uri=${encodeURIComponent('http://127.0.0.1:5543/callback')}`)
  t.equal(res.status, 200, 'the consent page')
  const tokens = await token(emulator, { grant_type: 'authorization_code', code: code(emulator), redirect_uri: 'http://127.0.0.1:5543/callback' })
  t.equal(tokens.status, 200)
  t.equal((await api(emulator, '/v1/me', tokens.json.access_token)).status, 200)
})

t.test('control switches refuse bad counts', async (t) => {
  const emulator = await start(t)
  for (const arm of [
    () => emulator.control.hangTokenCalls(-1),
    () => emulator.control.hangApiCalls(0.5),
    () => emulator.control.unauthorizeApiCalls(Number.NaN),
    () => emulator.control.rateLimitApiCalls(-1, 1)
  ]) t.throws(arm, RangeError)
  t.throws(() => emulator.control.addClient({ clientId: DEFAULT_CLIENT_ID, clientSecret: 'x', redirectUris: ['http://127.0.0.1/'] }), /already registered/)
})

t.test('fixtures are deterministic and consistent', async (t) => {
  t.equal(users.length, 6)
  t.same(users.map((u) => u.id), ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'])
  t.ok(users.some((u) => u.product === 'premium' && u.images.length > 0))
  t.ok(users.some((u) => u.product === 'free' && u.images.length === 0))
  t.ok(libraries.get('carol')!.length >= 45)
  t.equal(spotifyId('x'), spotifyId('x'))
  t.match(spotifyId('x'), /^[0-9A-Za-z]{22}$/)
  const ids = new Set([...users.map((u) => u.id), ...playlists.map((p) => p.id), ...tracks.map((x) => x.id), ...albums.map((a) => a.id), ...artists.map((a) => a.id)])
  t.equal(ids.size, users.length + playlists.length + tracks.length + albums.length + artists.length, 'ids are unique')
  for (const p of playlists) {
    t.ok(!(p.collaborative && p.public), `${p.name}: collaborative playlists are private`)
  }
  for (const [userId, ids] of libraries) {
    for (const id of ids) {
      const p = playlists.find((x) => x.id === id)!
      t.ok(p.public || p.ownerId === userId || p.collaborators.includes(userId), `${userId} may see ${p.name}`)
    }
  }
  t.ok(SCOPES.has('playlist-read-private'))
})

t.test('error helpers hide unexpected errors behind a 500', async (t) => {
  t.equal(errorStatus({ statusCode: 413 }), 413)
  t.equal(errorStatus({ statusCode: 503 }), 500)
  t.equal(errorStatus({}), 500)
  t.equal(errorStatus({ statusCode: '400' }), 500)
  t.equal(oauthErrorCode(500), 'server_error')
  t.equal(statusMessage(404), 'Not found')
})
