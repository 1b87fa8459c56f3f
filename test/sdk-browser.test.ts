/**
 * Spotify's official SDK in a real page (Debian's chromium, driven by
 * playwright-core): the SDK's own ESM build from node_modules, unbundled,
 * plus fastify-spotify-auth/sdk/browser, listing the user's playlists
 * through the proxy and paging with `next`, across a token refresh. The page
 * holds no token and talks to nothing but its own origin.
 */
import { readFile } from 'node:fs/promises'
import { dirname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Request } from 'playwright-core'
import ts from 'typescript'
import { browserTest, launchChromium } from './helpers/chromium.js'
import { build } from './helpers/build.js'
import { expireStored, sessionIdOf } from './helpers/sessions.js'

// Functions passed to page.evaluate run in the browser, where these exist.
declare const document: { querySelectorAll (s: string): ArrayLike<{ textContent: string | null }>, cookie: string, documentElement: { outerHTML: string } }
declare const localStorage: { length: number }

// The ESM build (dist/mjs): what `import` resolves to, as a page's bundler or import map would.
const SDK_DIR = dirname(fileURLToPath(import.meta.resolve('@spotify/web-api-ts-sdk')))
const BROWSER_MODULE = fileURLToPath(new URL('../plugin/sdk/browser.ts', import.meta.url))

/** The page: the SDK and the browser module as native ES modules, a list and a "More" button. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Playlists</title>
<link rel="icon" href="data:,">
<ul id="playlists"></ul>
<button id="more" hidden>More</button>
<p id="status">loading</p>
<script type="module">
  import { SpotifyApi } from '/vendor/sdk/index.js'
  import { proxiedSdk, nextPage } from '/vendor/fastify-spotify-auth/sdk/browser.js'
  const sdk = proxiedSdk(SpotifyApi)
  const list = document.getElementById('playlists')
  const more = document.getElementById('more')
  const status = document.getElementById('status')
  let page = null
  function show (next) {
    page = next
    for (const playlist of page.items) {
      const li = document.createElement('li')
      li.textContent = playlist.name
      list.append(li)
    }
    more.hidden = page.next === null
    status.textContent = list.children.length + ' of ' + page.total
  }
  more.addEventListener('click', async () => {
    status.textContent = 'loading'
    try { show(await nextPage(sdk, page)) } catch (err) { status.textContent = 'error: ' + err.message }
  })
  window.sdk = sdk
  show(await sdk.currentUser.playlists.playlists(4))
</script>`

browserTest('the official SDK lists and pages playlists through the proxy, across a refresh, holding no token: in chromium', async (t) => {
  // The browser module, as the package ships it (TypeScript to plain ESM, no bundling).
  const browserModule = ts.transpileModule(await readFile(BROWSER_MODULE, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true }
  }).outputText
  const built = await build(t, {
    before (app) {
      app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE))
      app.get('/vendor/fastify-spotify-auth/sdk/browser.js', async (_request, reply) => reply.type('text/javascript').send(browserModule))
      // The SDK's ESM build exactly as npm installed it: every import in it is relative.
      app.get('/vendor/sdk/*', async (request, reply) => {
        const file = normalize(join(SDK_DIR, (request.params as { '*': string })['*']))
        if (!file.startsWith(SDK_DIR + sep) || !file.endsWith('.js')) return await reply.code(404).send()
        return await reply.type('text/javascript').send(await readFile(file))
      })
    }
  })
  const { jar } = await built.login()
  const sessionId = sessionIdOf(jar)
  const stored = await built.app.spotify.store.get(sessionId)
  const origin = await built.app.listen({ port: 0, host: '127.0.0.1' })
  built.emulator.control.resetCounters()
  built.emulator.control.clearApiRequests()

  const browser = await launchChromium(t)
  const context = await browser.newContext()
  // The session cookie the login set, as the browser would keep it (HttpOnly).
  await context.addCookies([{ name: 'spotify_session', value: jar.cookies.get('spotify_session') as string, url: origin, httpOnly: true, sameSite: 'Lax' }])
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const problems: string[] = []
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()) })
  page.on('pageerror', (error) => { problems.push(error.message) })
  const requests: Request[] = []
  page.on('request', (request) => { requests.push(request) })
  const names = async (): Promise<string[]> => await page.evaluate(() => Array.from(document.querySelectorAll('#playlists li'), (li) => li.textContent ?? ''))
  const statusIs = (expected: RegExp) => page.waitForFunction((source) => new RegExp(source).test(document.querySelectorAll('#status')[0]?.textContent ?? ''), expected.source)

  await page.goto(origin + '/')
  await statusIs(/^4 of \d+$/)
  const total = Number((await page.textContent('#status'))?.split(' of ')[1])
  t.ok(total > 8 && total <= 12, `three pages of playlists (${total})`)
  const first = await names()
  t.equal(first[0], 'Morning Focus')

  // The next page, through the proxy's rewritten `next`.
  await page.click('#more')
  await statusIs(/^8 of \d+$/)
  t.equal(built.emulator.control.counters.refresh_token, 0)

  // The token expires between two pages: the server refreshes it, the page notices nothing.
  await expireStored(built.app.spotify.store, sessionId)
  await page.click('#more')
  await statusIs(new RegExp(`^${total} of ${total}$`))
  t.equal(await page.isHidden('#more'), true, 'no page after the last')
  t.equal(built.emulator.control.counters.refresh_token, 1, 'refreshed once, by the server')
  const all = await names()
  t.equal(all.length, total)
  t.equal(new Set(all).size, total, 'every playlist once')
  const refreshed = await built.app.spotify.store.get(sessionId)
  t.not(refreshed?.accessToken, stored?.accessToken)

  // What the Web API saw: the three pages, asked by the server with the session's bearer.
  const seen = built.emulator.control.apiRequests.map((r) => `${r.path}?${r.query}`)
  t.same(seen, ['/v1/me/playlists?limit=4', '/v1/me/playlists?offset=4&limit=4', '/v1/me/playlists?offset=8&limit=4'])
  t.equal(built.emulator.control.apiRequests.at(-1)?.headers.authorization, `Bearer ${refreshed?.accessToken}`)

  // What the page did: its own origin only, the proxy for the API, never a bearer of ours.
  const api = requests.filter((r) => new URL(r.url()).pathname.startsWith('/spotify/'))
  t.same(api.map((r) => new URL(r.url()).pathname + new URL(r.url()).search), ['/spotify/me/playlists?limit=4', '/spotify/me/playlists?offset=4&limit=4', '/spotify/me/playlists?offset=8&limit=4'])
  t.same(requests.filter((r) => new URL(r.url()).origin !== origin).map((r) => r.url()), [], 'no request to another origin (the accounts service, the Web API)')
  for (const request of api) {
    const headers = await request.allHeaders()
    t.equal(headers.authorization, undefined, 'no Authorization header from the page')
    t.match(headers.cookie, /spotify_session=/, 'the session cookie')
  }
  // No token anywhere the page can read.
  const visible = await page.evaluate(async () => {
    const sdk = (globalThis as unknown as { sdk: { getAccessToken (): Promise<unknown> } }).sdk
    return JSON.stringify({ token: await sdk.getAccessToken(), cookie: document.cookie, html: document.documentElement.outerHTML, storage: localStorage.length })
  })
  for (const secret of [stored?.accessToken, stored?.refreshToken, refreshed?.accessToken, refreshed?.refreshToken]) {
    t.notOk(visible.includes(secret as string), 'no token in the page')
  }
  t.match(visible, /"storage":0/, 'nothing in localStorage')
  t.same(problems, [], 'no console errors')
})
