// An ES module app of a user's project, compiled against the packed
// package (not this repository's sources): it logs in through the exported
// emulator and reads /me through the proxy. .ci/consumer runs it.
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import spotifyAuth, { errorCodes, memoryStore, NoSessionError } from 'fastify-spotify-auth'
import { createSpotifyEmulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI, users } from 'fastify-spotify-auth/emulator'
import { spotifySdk } from 'fastify-spotify-auth/sdk'
import { proxiedSdk } from 'fastify-spotify-auth/sdk/browser'
import { testTokenStore, type ContractRunner } from 'fastify-spotify-auth/testing'

const emulator = await createSpotifyEmulator({ autoApprove: true })
const app = Fastify()
await app.register(spotifyAuth, {
  clientId: DEFAULT_CLIENT_ID,
  clientSecret: DEFAULT_CLIENT_SECRET,
  redirectUri: DEFAULT_REDIRECT_URI,
  secret: 'a session secret of at least 32 characters',
  scopes: ['user-read-private'],
  store: memoryStore(),
  accountsUrl: emulator.url,
  apiUrl: emulator.url
})

try {
  const login = await app.inject('/login')
  const approved = await fetch(login.headers.location as string, { redirect: 'manual' })
  const back = new URL(approved.headers.get('location') as string)
  const callback = await app.inject({ url: back.pathname + back.search, cookies: cookiesOf(login) })
  const me = await app.inject({ url: '/spotify/me', cookies: cookiesOf(callback) })
  const user: { id: string } = me.json()
  assert.equal(me.statusCode, 200, me.body)
  assert.equal(user.id, users[0]?.id)

  const anonymous = await app.inject('/spotify/me')
  assert.equal(anonymous.json<{ error: { code: string } }>().error.code, errorCodes.NO_SESSION)
  assert.equal(new NoSessionError().statusCode, 401)
  for (const loaded of [spotifySdk, proxiedSdk, testTokenStore]) assert.equal(typeof loaded, 'function')
  const runner: ContractRunner = { test: async () => {} }
  assert.ok(runner)
  console.log(`esm: logged in as ${user.id}, read /me through the proxy`)
} finally {
  await app.close()
  await emulator.close()
}

function cookiesOf (response: { cookies: Array<{ name: string, value: string }> }): Record<string, string> {
  return Object.fromEntries(response.cookies.map((cookie) => [cookie.name, cookie.value]))
}
