/**
 * Spotify's official SDK (`@spotify/web-api-ts-sdk`) on the server, through
 * `fastify-spotify-auth/sdk`, against the emulator: the plugin supplies and
 * refreshes the token, the SDK never calls the accounts service, and the
 * bearer only ever goes to `{apiUrl}/v1/`.
 */
import type { Page, SimplifiedPlaylist, UserProfile } from '@spotify/web-api-ts-sdk'
import t from 'tap'
import { spotifySdk } from '../plugin/sdk/index.js'
import { build, type Built } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'
import { expireStored, sessionIdOf } from './helpers/sessions.js'

/** A fetch that records every URL the SDK asks for, then really fetches it. */
function recordingFetch (): { urls: string[], fetch: typeof fetch } {
  const urls: string[] = []
  return {
    urls,
    fetch: async (input, init) => {
      urls.push(String(input))
      return await fetch(input, init)
    }
  }
}

/** An app with the README's route, plus a probe that lets the test drive an SDK for its session. */
async function withSdkRoutes (t: Parameters<typeof build>[0]): Promise<Built> {
  return await build(t, {

    before (app) {
      app.get('/my-playlists', async (request) => {
        const sdk = spotifySdk(request.spotify)
        return await sdk.currentUser.playlists.playlists(2)
      })
    }
  })
}

t.test('a route answers with the SDK\'s typed result, as the session', async (t) => {
  const { login, request, emulator, app } = await withSdkRoutes(t)
  const { jar } = await login()
  emulator.control.resetCounters()
  emulator.control.clearApiRequests()
  const response = await request(jar, { url: '/my-playlists' })
  t.equal(response.statusCode, 200)
  const page = response.json<Page<SimplifiedPlaylist>>()
  t.equal(page.limit, 2)
  t.equal(page.items.length, 2)
  t.equal(page.items[0]?.name, 'Morning Focus')
  t.equal(page.next, `${emulator.url}/v1/me/playlists?offset=2&limit=2`, 'the SDK talked to the Web API directly')
  const seen = emulator.control.apiRequests
  t.same(seen.map((r) => `${r.method} ${r.path}?${r.query}`), ['GET /v1/me/playlists?limit=2'])
  const stored = await app.spotify.store.get(sessionIdOf(jar))
  t.equal(seen[0]?.headers.authorization, `Bearer ${stored?.accessToken}`, 'the session\'s own token')
  t.same(emulator.control.counters, { authorization_code: 0, refresh_token: 0, client_credentials: 0, api: 1 })
})

t.test('without a session the SDK\'s calls answer 401 FST_SPOTIFY_NO_SESSION, and nothing reaches Spotify', async (t) => {
  const { app, emulator } = await withSdkRoutes(t)
  emulator.control.resetCounters()
  const response = await app.inject({ url: '/my-playlists' })
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'FST_SPOTIFY_NO_SESSION')
  t.equal(emulator.control.counters.api, 0)
})

t.test('a token expiring between two calls is refreshed by the plugin, once, before the second', async (t) => {
  const { app, login, emulator } = await build(t, { plugin: { onLogin (_request, { sessionId }) { ids.push(sessionId) } } })
  const ids: string[] = []
  await login()
  const recorded = recordingFetch()
  const sdk = spotifySdk(app.spotify.session(ids[0] as string), { fetch: recorded.fetch })
  emulator.control.resetCounters()
  const me: UserProfile = await sdk.currentUser.profile()
  t.equal(me.id, 'alice')
  const before = await app.spotify.store.get(ids[0] as string)
  await expireStored(app.spotify.store, ids[0] as string)
  const pages = await Promise.all([sdk.currentUser.playlists.playlists(2, 0), sdk.currentUser.playlists.playlists(2, 2)])
  t.equal(pages[1].offset, 2)
  t.equal(emulator.control.counters.refresh_token, 1, 'one refresh for two concurrent calls')
  const after = await app.spotify.store.get(ids[0] as string)
  t.not(after?.accessToken, before?.accessToken)
  t.same(emulator.control.apiRequests.slice(-2).map((r) => r.headers.authorization), [`Bearer ${after?.accessToken}`, `Bearer ${after?.accessToken}`])
  t.ok(recorded.urls.length === 3 && recorded.urls.every((url) => url.startsWith(`${emulator.url}/v1/`)), 'every call to {apiUrl}/v1/, none to the accounts service')
})

t.test('a 401 before its time: one refresh through the plugin, one retry; a second 401 reaches the SDK', async (t) => {
  const { app, login, emulator } = await build(t, { plugin: { refreshCooldown: 0, onLogin (_request, { sessionId }) { ids.push(sessionId) } } })
  const ids: string[] = []
  await login()
  const recorded = recordingFetch()
  const sdk = spotifySdk(app.spotify.session(ids[0] as string), { fetch: recorded.fetch })
  emulator.control.resetCounters()
  emulator.control.unauthorizeApiCalls(1)
  t.equal((await sdk.currentUser.profile()).id, 'alice')
  t.same(emulator.control.counters, { authorization_code: 0, refresh_token: 1, client_credentials: 0, api: 2 })
  const [refused, retried] = emulator.control.apiRequests.slice(-2)
  t.not(refused?.headers.authorization, retried?.headers.authorization, 'retried with the new token')
  t.equal(retried?.headers.authorization, `Bearer ${(await app.spotify.store.get(ids[0] as string))?.accessToken}`)

  emulator.control.resetCounters()
  emulator.control.unauthorizeApiCalls(2)
  await t.rejects(sdk.currentUser.profile(), /Bad or expired token/, 'the SDK\'s own error for the second 401')
  t.same(emulator.control.counters, { authorization_code: 0, refresh_token: 1, client_credentials: 0, api: 2 }, 'one refresh, one retry')
  t.ok(recorded.urls.every((url) => url.startsWith(`${emulator.url}/v1/`)), 'no call to the accounts service')
})

t.test('a 401 to a token younger than refreshCooldown is passed on without a refresh', async (t) => {
  const { app, login, emulator } = await build(t, { plugin: { onLogin (_request, { sessionId }) { ids.push(sessionId) } } })
  const ids: string[] = []
  await login()
  const sdk = spotifySdk(app.spotify.session(ids[0] as string))
  emulator.control.resetCounters()
  emulator.control.unauthorizeApiCalls(1)
  await t.rejects(sdk.currentUser.profile(), /Bad or expired token/)
  t.same(emulator.control.counters, { authorization_code: 0, refresh_token: 0, client_credentials: 0, api: 1 })
})

t.test('a session that ends while its 401 is handled answers FST_SPOTIFY_NO_SESSION', async (t) => {
  const { app, login, emulator } = await build(t, { plugin: { refreshCooldown: 0, onLogin (_request, { sessionId }) { ids.push(sessionId) } } })
  const ids: string[] = []
  await login()
  const session = app.spotify.session(ids[0] as string)
  const sdk = spotifySdk(session, {
    // Logged out elsewhere while this call was on its way.
    fetch: async (input, init) => {
      const response = await fetch(input, init)
      await app.spotify.store.delete(ids[0] as string)
      return response
    }
  })
  emulator.control.unauthorizeApiCalls(1)
  await t.rejects(sdk.currentUser.profile(), { code: 'FST_SPOTIFY_NO_SESSION' })
  t.equal(session.sessionId, undefined, 'the handle forgot the session')
})

t.test('the SDK\'s own Authorization header decides nothing: the handle\'s bearer goes out', async (t) => {
  const { app, login, emulator } = await build(t, { plugin: { refreshCooldown: 0, onLogin (_request, { sessionId }) { ids.push(sessionId) } } })
  const ids: string[] = []
  await login()
  const stored = await app.spotify.store.get(ids[0] as string)
  for (const change of [
    (headers: Record<string, string>) => { delete headers.Authorization },
    (headers: Record<string, string>) => { headers.Authorization = 'Bearer forged' }
  ]) {
    const sdk = spotifySdk(app.spotify.session(ids[0] as string), { beforeRequest: (_url, options) => { change(options.headers as Record<string, string>) } })
    emulator.control.resetCounters()
    t.equal((await sdk.currentUser.profile()).id, 'alice')
    t.equal(emulator.control.apiRequests.at(-1)?.headers.authorization, `Bearer ${stored?.accessToken}`)
    t.same(emulator.control.counters, { authorization_code: 0, refresh_token: 0, client_credentials: 0, api: 1 })
  }
})

t.test('the bearer never leaves {apiUrl}/v1/: other URLs are refused before any request', async (t) => {
  const { app, login, emulator } = await build(t, { plugin: { onLogin (_request, { sessionId }) { ids.push(sessionId) } } })
  const ids: string[] = []
  await login()
  const recorded = recordingFetch()
  const sdk = spotifySdk(app.spotify.session(ids[0] as string), { fetch: recorded.fetch })
  emulator.control.resetCounters()
  // The URL parser resolves dot segments, percent-encoded ones too, before the check.
  // What a peer could still read as leaving /v1/ (an encoded slash or
  // backslash, a dot segment encoded twice) is refused too, as the proxy does.
  for (const path of ['../api/token', '../../accounts', 'me/../../x', '%2e%2e/api/token', 'me/%2E./%2e%2E/token',
    '..%2f..%2fapi%2ftoken', 'me/..%5c..%5capi', '%252e%252e/%252e%252e/api/token', 'me\\..\\..\\api']) {
    await t.rejects(sdk.makeRequest('GET', path), { code: 'FST_SPOTIFY_FOREIGN_URL' }, path)
  }
  t.same(recorded.urls, [], 'nothing was sent')
  t.same(emulator.control.counters, { authorization_code: 0, refresh_token: 0, client_credentials: 0, api: 0 })
})

t.test('the app\'s own SDK: client credentials from the plugin, catalog calls only', async (t) => {
  const { app, emulator } = await build(t)
  const recorded = recordingFetch()
  const sdk = spotifySdk(app.spotify.app, { fetch: recorded.fetch })
  const found = await sdk.search('a', ['track'], undefined, 5)
  t.ok(found.tracks.items.length > 0)
  const track = await sdk.tracks.get(found.tracks.items[0]!.id)
  t.equal(track.id, found.tracks.items[0]!.id)
  t.equal(emulator.control.counters.client_credentials, 1, 'one app token for both calls')
  await t.rejects(sdk.currentUser.profile(), /Bad OAuth request/, 'no user behind the app')
  t.ok(recorded.urls.every((url) => url.startsWith(`${emulator.url}/v1/`)))

  // Revoked upstream: the plugin fetches a new app token once, and the call is retried.
  const app2 = await build(t, { plugin: { refreshCooldown: 0 } })
  const sdk2 = spotifySdk(app2.app.spotify.app)
  await sdk2.tracks.get(track.id)
  app2.emulator.control.unauthorizeApiCalls(1)
  // Another track: the first is in the response cache now, and would not call Spotify.
  const another = found.tracks.items.at(-1)!.id
  t.not(another, track.id)
  t.equal((await sdk2.tracks.get(another)).id, another)
  t.equal(app2.emulator.control.counters.client_credentials, 2)
})

t.test('getAccessToken() and logOut(): the token without its refresh token; logOut detaches this SDK only', async (t) => {
  const { app, login, emulator } = await build(t, { plugin: { onLogin (_request, { sessionId }) { ids.push(sessionId) } } })
  const ids: string[] = []
  await login()
  const session = app.spotify.session(ids[0] as string)
  const sdk = spotifySdk(session)
  const stored = await app.spotify.store.get(ids[0] as string)
  const token = await sdk.getAccessToken()
  t.same(token, {
    access_token: stored?.accessToken,
    token_type: 'Bearer',
    expires_in: token?.expires_in,
    refresh_token: '',
    expires: (stored?.expiresAt ?? 0) * 1000
  })
  t.ok((token?.expires_in ?? 0) > 3000 && (token?.expires_in ?? 0) <= 3600)
  t.equal((await sdk.authenticate()).authenticated, true)
  sdk.logOut()
  t.equal(await sdk.getAccessToken(), null)
  emulator.control.resetCounters()
  await t.rejects(sdk.currentUser.profile(), { code: 'FST_SPOTIFY_NO_SESSION' })
  t.equal(emulator.control.counters.api, 0)
  t.ok(await session.getToken(), 'the session itself lives on')
  t.equal((await spotifySdk(session).currentUser.profile()).id, 'alice')

  const gone = spotifySdk(app.spotify.session('no-such-session'))
  t.equal(await gone.getAccessToken(), null)
})

t.test('Spotify unreachable: 502; no answer within timeout: 504', async (t) => {
  const { app, emulator } = await build(t, { plugin: { timeout: 300 } })
  const sdk = spotifySdk(app.spotify.app)
  await sdk.tracks.get('4uLU6hMCjMI75M1A2tKUQC').catch(() => undefined)
  emulator.control.hangApiCalls(1)
  await t.rejects(sdk.tracks.get('4uLU6hMCjMI75M1A2tKUQC'), { code: 'FST_SPOTIFY_UPSTREAM_TIMEOUT', statusCode: 504 })

  const refused = spotifySdk(app.spotify.app, { fetch: async () => { throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) } })
  await t.rejects(refused.tracks.get('x'), { code: 'FST_SPOTIFY_UPSTREAM_ERROR', statusCode: 502 })
  const failed = spotifySdk(app.spotify.app, { fetch: async () => { throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) }) } })
  const err = await failed.tracks.get('x').catch((e: unknown) => e) as { code: string, cause: { code: string } }
  t.equal(err.code, 'FST_SPOTIFY_UPSTREAM_ERROR')
  t.equal(err.cause.code, 'ECONNRESET', 'the summary of undici\'s cause')
})

t.test('spotifySdk refuses anything but a handle of the plugin', async (t) => {
  t.throws(() => spotifySdk({} as never), { name: 'TypeError', message: /spotifySdk needs request\.spotify/ })
})

t.test('a 429 to the SDK holds every client of the app, and the SDK is held by a 429 from any other', async (t) => {
  const { app, login, emulator } = await build(t, { plugin: { retry: { limit: 0 }, onLogin (_request, { sessionId }) { ids.push(sessionId) } } })
  const ids: string[] = []
  await login()
  const sdk = spotifySdk(app.spotify.session(ids[0] as string))
  emulator.control.resetCounters()
  emulator.control.rateLimitApiCalls(1, 60)
  await t.rejects(sdk.currentUser.profile(), 'the SDK sees Spotify\'s 429')
  t.equal(emulator.control.counters.api, 1)
  await t.rejects(sdk.currentUser.profile(), { code: 'FST_SPOTIFY_RATE_LIMITED', statusCode: 429 }, 'the SDK\'s next call is held back')
  await t.rejects(app.spotify.session(ids[0] as string).api.get('me').json(), { code: 'FST_SPOTIFY_RATE_LIMITED' }, 'so are the got clients')
  await t.rejects(spotifySdk(app.spotify.app).search('blue', ['track']), { code: 'FST_SPOTIFY_RATE_LIMITED' }, 'and the app\'s SDK')
  t.equal(emulator.control.counters.api, 1, 'no further call reached Spotify')
})

t.test('a 429 without Retry-After opens no window', async (t) => {
  const { app, login, emulator } = await build(t, { plugin: { onLogin (_request, { sessionId }) { ids.push(sessionId) } } })
  const ids: string[] = []
  await login()
  const limited = spotifySdk(app.spotify.session(ids[0] as string), {
    fetch: async () => new Response(JSON.stringify({ error: { status: 429, message: 'API rate limit exceeded' } }), { status: 429 })
  })
  await t.rejects(limited.currentUser.profile(), 'the SDK sees the 429')
  emulator.control.resetCounters()
  t.equal((await spotifySdk(app.spotify.session(ids[0] as string)).currentUser.profile()).id, 'alice', 'the next call goes out')
  t.equal(emulator.control.counters.api, 1)
})

t.test('a body that stalls or breaks off after its headers: 504 / 502, as when no answer came; a 204 has none to read', async (t) => {
  let server: { closeAllConnections: () => void } | undefined
  const upstream = await fakeUpstream(t, (app) => {
    server = app.server
    app.get('/v1/tracks/stalls', async (_request, reply) => {
      reply.hijack()
      reply.raw.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      reply.raw.write('{"id":')
    })
    app.get('/v1/tracks/none', async (_request, reply) => reply.code(204).send())
    app.get('/v1/tracks/breaks', async (_request, reply) => {
      reply.hijack()
      reply.raw.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      reply.raw.write('{"id":', () => { reply.raw.destroy() })
    })
  })
  // Teardowns run last first: the stalled answer must not hold the upstream's close.
  t.teardown(() => { server?.closeAllConnections() })
  const { app } = await build(t, { plugin: { apiUrl: upstream, timeout: 300 } })
  const sdk = spotifySdk(app.spotify.app)
  await t.rejects(sdk.tracks.get('stalls'), { code: 'FST_SPOTIFY_UPSTREAM_TIMEOUT', statusCode: 504 })
  await t.rejects(sdk.tracks.get('breaks'), { code: 'FST_SPOTIFY_UPSTREAM_ERROR', statusCode: 502 })
  t.equal(await sdk.tracks.get('none'), null)
})
