// A CommonJS app of a user's project (what `npm init -y` makes), compiled
// against the packed package: every entry point is loaded with require(),
// which Node 20.19+ and 22.12+ allow for an ES module. The types come by
// `import type` in import mode, which every moduleResolution accepts (a
// require of an ES module, TypeScript models under nodenext only).
import assert = require('node:assert/strict')
import Fastify = require('fastify')
import type * as Plugin from 'fastify-spotify-auth' with { 'resolution-mode': 'import' }
import type * as Emulator from 'fastify-spotify-auth/emulator' with { 'resolution-mode': 'import' }
import type * as Sdk from 'fastify-spotify-auth/sdk' with { 'resolution-mode': 'import' }
import type * as SdkBrowser from 'fastify-spotify-auth/sdk/browser' with { 'resolution-mode': 'import' }
import type * as Testing from 'fastify-spotify-auth/testing' with { 'resolution-mode': 'import' }

const { default: spotifyAuth, errorCodes, memoryStore }: typeof Plugin = require('fastify-spotify-auth')
const { createSpotifyEmulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI, users }: typeof Emulator = require('fastify-spotify-auth/emulator')
const { spotifySdk }: typeof Sdk = require('fastify-spotify-auth/sdk')
const { proxiedSdk }: typeof SdkBrowser = require('fastify-spotify-auth/sdk/browser')
const { testTokenStore }: typeof Testing = require('fastify-spotify-auth/testing')

async function main (): Promise<void> {
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
    for (const loaded of [spotifySdk, proxiedSdk, testTokenStore]) assert.equal(typeof loaded, 'function')
    console.log(`cjs: logged in as ${user.id}, read /me through the proxy`)
  } finally {
    await app.close()
    await emulator.close()
  }
}

function cookiesOf (response: { cookies: Array<{ name: string, value: string }> }): Record<string, string> {
  return Object.fromEntries(response.cookies.map((cookie) => [cookie.name, cookie.value]))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
