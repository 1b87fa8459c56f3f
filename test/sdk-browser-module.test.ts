/**
 * `fastify-spotify-auth/sdk/browser` outside a browser: the SDK with the
 * module's strategy and fetch against a listening app, with a `send` that
 * does what a page's fetch does (the page's origin, its cookie). The same
 * module runs in Chromium in sdk-browser.test.ts.
 */
import { SpotifyApi, type Page, type SimplifiedPlaylist } from '@spotify/web-api-ts-sdk'
import t from 'tap'
import { follow, nextPage, previousPage, proxiedSdk, proxyAuthStrategy, proxyFetch } from '../plugin/sdk/browser.js'
import { build, type Built, type CookieJar } from './helpers/build.js'

interface Sent { url: string, headers: Headers, credentials: RequestInit['credentials'] }

/** What a page's fetch does with a path: its own origin, its cookie. */
async function pageFetch (built: Built, jar: CookieJar): Promise<{ sent: Sent[], send: typeof fetch }> {
  const origin = await built.app.listen({ port: 0, host: '127.0.0.1' })
  const sent: Sent[] = []
  return {
    sent,
    send: async (input, init = {}) => {
      const headers = new Headers(init.headers)
      sent.push({ url: String(input), headers: new Headers(headers), credentials: init.credentials })
      headers.set('cookie', jar.header)
      return await fetch(new URL(String(input), origin), { ...init, headers })
    }
  }
}

t.test('the SDK lists and pages playlists through the proxy, holding no token', async (t) => {
  const built = await build(t)
  const { jar } = await built.login()
  const { sent, send } = await pageFetch(built, jar)
  const sdk = proxiedSdk(SpotifyApi, { fetch: send })
  built.emulator.control.resetCounters()

  const first: Page<SimplifiedPlaylist> = await sdk.currentUser.playlists.playlists(2)
  t.equal(first.items[0]?.name, 'Morning Focus')
  t.equal(first.next, '/spotify/me/playlists?offset=2&limit=2', 'the proxy\'s own link')
  const second = await nextPage(sdk, first)
  t.equal(second?.offset, 2)
  t.not(second?.items[0]?.id, first.items[0]?.id)
  const back = await previousPage(sdk, second as Page<SimplifiedPlaylist>)
  t.same(back?.items.map((p) => p.id), first.items.map((p) => p.id))
  t.equal(await previousPage(sdk, first), null, 'no page before the first')

  t.same(sent.map((s) => s.url), ['/spotify/me/playlists?limit=2', '/spotify/me/playlists?offset=2&limit=2', '/spotify/me/playlists?offset=0&limit=2'])
  t.ok(sent.every((s) => !s.headers.has('authorization') && s.credentials === 'same-origin'), 'no Authorization, the cookie only')
  t.same(built.emulator.control.counters, { authorization_code: 0, refresh_token: 0, client_credentials: 0, api: 3 })
  const stored = await built.app.spotify.store.get((jar.cookies.get('spotify_session') as string).split('.')[0] as string)
  t.ok(built.emulator.control.apiRequests.every((r) => r.headers.authorization === `Bearer ${stored?.accessToken}`), 'the server added the bearer')
})

t.test('links of the Web API itself (proxyRewriteLinks: false) and another proxyPrefix', async (t) => {
  const built = await build(t, { plugin: { proxyRewriteLinks: false, proxyPrefix: '/api/spotify' } })
  const { jar } = await built.login()
  const { sent, send } = await pageFetch(built, jar)
  const sdk = proxiedSdk(SpotifyApi, { proxyPrefix: '/api/spotify/', fetch: send })
  const first = await sdk.currentUser.playlists.playlists(2)
  t.equal(first.next, `${built.emulator.url}/v1/me/playlists?offset=2&limit=2`)
  // As the app's page would see the Web API's own link with the real apiUrl:
  const second = await follow<typeof first>(sdk, 'https://api.spotify.com/v1/me/playlists?offset=2&limit=2', '/api/spotify')
  t.equal(second?.offset, 2)
  t.equal(sent.at(-1)?.url, '/api/spotify/me/playlists?offset=2&limit=2')
  await t.rejects(follow(sdk, first.next, '/api/spotify'), { name: 'TypeError', message: /not a link of the Web API/ }, 'another origin\'s link')
})

t.test('other URLs, bad prefixes: refused without a request', async (t) => {
  const sent: string[] = []
  const guarded = proxyFetch('/spotify', async (input) => { sent.push(String(input)); return new Response('{}') })
  for (const url of ['https://accounts.spotify.com/api/token', 'https://api.spotify.com/v1/../api/token', 'https://api.spotify.com/v1/%2e%2e/x', 'http://api.spotify.com/v1/me']) {
    await t.rejects(guarded(url), { name: 'TypeError', message: /refused to fetch .*: not the Web API/ }, url)
  }
  t.same(sent, [])
  await guarded('https://api.spotify.com/v1/me', { headers: { Authorization: 'Bearer x' } })
  t.same(sent, ['/spotify/me'])
  // '/' (which the plugin refuses too) would turn `v1//evil.example/x` into a URL of another origin.
  for (const prefix of ['spotify', '//evil.example/spotify', '/']) {
    t.throws(() => proxyFetch(prefix), { name: 'TypeError', message: /proxyPrefix must be a path/ }, prefix)
  }
  // The defaults: /spotify, and the global fetch, which in a page resolves the path against the page.
  await t.rejects(proxyFetch()('https://api.spotify.com/v1/me'), { name: 'TypeError', message: /Failed to parse URL from \/spotify\/me/ })
})

t.test('the strategy holds no token and never redirects', async (t) => {
  const strategy = proxyAuthStrategy()
  strategy.setConfiguration({} as never)
  const token = await strategy.getOrCreateAccessToken()
  t.equal(token.access_token, 'held-by-the-server')
  t.equal(token.refresh_token, '')
  t.equal(await strategy.getAccessToken(), token)
  strategy.removeAccessToken()
  t.equal((await new SpotifyApi(strategy).authenticate()).authenticated, true, 'the SDK counts itself signed in: the session decides')
})
