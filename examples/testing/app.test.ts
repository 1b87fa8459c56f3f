// Tests of ./app.ts against the emulator, with node:test: no network, no
// Spotify account. Run: node --import tsx --test app.test.ts
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { createSpotifyEmulator, type SpotifyEmulator } from 'fastify-spotify-auth/emulator'
import { buildApp } from './app.js'

const client = { clientId: 'test-app', clientSecret: 'test-app-secret' }
const redirectUri = 'http://127.0.0.1:3000/callback'

/** The app on a fresh emulator that approves every login as alice; both closed after the test. */
async function setup (t: TestContext): Promise<{ app: FastifyInstance, spotify: SpotifyEmulator }> {
  const spotify = await createSpotifyEmulator({
    autoApprove: 'alice', // no consent page: /authorize redirects straight back
    clients: [{ ...client, redirectUris: [redirectUri] }]
  })
  const app = await buildApp({
    ...client,
    redirectUri,
    secret: 'a-test-secret-of-at-least-32-characters',
    accountsUrl: spotify.url,
    apiUrl: spotify.url
  })
  t.after(async () => {
    await app.close()
    await spotify.close()
  })
  return { app, spotify }
}

/** A whole login through the emulator: resolves the `cookie` header of the new session. */
async function logIn (app: FastifyInstance): Promise<string> {
  const login = await app.inject('/login')
  const authorize = await fetch(login.headers.location as string, { redirect: 'manual' })
  const callback = new URL(authorize.headers.get('location') as string)
  const flowCookies = login.cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ')
  const done = await app.inject({ url: callback.pathname + callback.search, headers: { cookie: flowCookies } })
  const session = done.cookies.find((cookie) => cookie.name === 'spotify_session')
  assert.ok(session, 'the callback sets the session cookie')
  return `spotify_session=${session.value}`
}

test('a logged-in user gets their playlists', async (t) => {
  const { app } = await setup(t)
  const cookie = await logIn(app)
  const response = await app.inject({ url: '/playlists', headers: { cookie } })
  assert.equal(response.statusCode, 200)
  assert.ok(response.json().includes('Morning Focus'))
})

test('without a session: 401', async (t) => {
  const { app } = await setup(t)
  const response = await app.inject('/playlists')
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_SPOTIFY_NO_SESSION') // Fastify's default error handler
})

test('an expiring token is refreshed once, and the calls go through', async (t) => {
  const { app, spotify } = await setup(t)
  // A login token of 30 s, under the plugin's refreshMargin of 60 s: it
  // counts as expired at once. Its refresh brings an hour's token.
  spotify.control.setAccessTokenTtl(30)
  const cookie = await logIn(app)
  spotify.control.setAccessTokenTtl(3600)
  spotify.control.resetCounters()
  const responses = await Promise.all([1, 2, 3].map(() => app.inject({ url: '/playlists', headers: { cookie } })))
  assert.deepEqual(responses.map((response) => response.statusCode), [200, 200, 200])
  assert.equal(spotify.control.counters.refresh_token, 1)
})

test('Spotify failing to refresh: 502, and the session stays', async (t) => {
  const { app, spotify } = await setup(t)
  spotify.control.setAccessTokenTtl(30)
  const cookie = await logIn(app)
  spotify.control.failTokenCalls(1, 503)
  assert.equal((await app.inject({ url: '/playlists', headers: { cookie } })).statusCode, 502)
  assert.equal((await app.inject({ url: '/playlists', headers: { cookie } })).statusCode, 200)
})
