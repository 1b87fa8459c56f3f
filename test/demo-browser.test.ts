/**
 * The demo in a real browser (Debian's chromium, driven by playwright-core):
 * log in on the emulator's consent page, see who is logged in and the playlists,
 * refresh, log out, then cancel a login. Writes the README's screenshot to
 * docs/demo.png with UPDATE_SCREENSHOT=1 (to a temporary directory otherwise).
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// Functions passed to page.waitForFunction run in the browser, where this exists.
declare const document: { querySelector (s: string): { textContent: string | null } | null, getElementById (id: string): { textContent: string | null } | null }
import { buildDemo } from '../demo/app.js'
import { browserTest, launchChromium } from './helpers/chromium.js'
import { freePort, testConfig } from './helpers/demo.js'

const SCREENSHOT = fileURLToPath(new URL('../docs/demo.png', import.meta.url))

browserTest('log in, see who is logged in and the playlists, refresh, log out, cancel a login: in chromium', async (t) => {
  const started = Date.now()
  // The redirect URI names the port, so the port is chosen before listening.
  const port = await freePort()
  const demo = await buildDemo(testConfig({ PORT: String(port) }))
  t.teardown(() => demo.close())
  await demo.app.listen({ host: '127.0.0.1', port })
  const home = `http://127.0.0.1:${port}/`

  const browser = await launchChromium(t)
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' })
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  // A CSP violation or a script error shows up here.
  const problems: string[] = []
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()) })
  page.on('pageerror', (error) => { problems.push(error.message) })
  const text = async (selector: string): Promise<string> => (await page.textContent(selector))?.trim() ?? ''
  const textIs = (selector: string, expected: string) => page.waitForFunction(
    ([s, e]) => document.querySelector(s as string)?.textContent?.trim() === e, [selector, expected])

  // Logged out: one button.
  await page.goto(home)
  t.equal(await text('#login'), 'Log in with Spotify')

  // The catalog search, before any login: the app's own token.
  await page.fill('#search input[name=q]', 'a')
  await page.click('#search button')
  await page.waitForSelector('#results li')
  t.ok(await page.locator('#results li').count() > 0, 'search results without login')
  await page.goto(home)

  // The emulator's consent page: Agree, as alice.
  await page.click('#login')
  await page.waitForSelector('button.agree')
  t.equal(new URL(page.url()).origin, demo.emulator!.url, 'on the emulator\'s consent page')
  await page.click('button.agree')

  // Back on the demo, logged in: who is logged in, from GET /session, and
  // the first page of playlists.
  await page.waitForURL(home)
  await textIs('#display-name', 'Alice Andersson')
  t.equal(await text('#user-id'), 'alice')
  t.match(await text('#account-id'), /^\w{22}$/)
  t.equal(await text('#avatar'), 'A')
  t.equal(demo.emulator!.control.apiCallsByEndpoint['GET /v1/me'], 1, 'the header made no Web API call: the one GET /v1/me is the login\'s')
  await page.waitForSelector('#playlists li')
  t.ok(await page.locator('#playlists li').count() >= 1, 'at least one playlist')
  t.equal(await text('#playlists li:first-child strong'), 'Morning Focus')
  await page.waitForFunction(() => /^1–6 of \d+$/.test(document.getElementById('range')?.textContent ?? ''))
  const total = Number((await text('#range')).split(' of ')[1])
  t.ok(total > 6 && total <= 12, `two pages of playlists (${total})`)
  await page.click('#next')
  await textIs('#range', `7–${total} of ${total}`)
  t.equal(await page.locator('#playlists li').count(), total - 6)
  await page.click('#previous')
  await textIs('#range', `1–6 of ${total}`)
  t.match(await text('#expires-in'), /^[12]:\d\d$/, 'the countdown runs')

  // "Refresh now": the count goes up, the last refresh time appears.
  t.equal(await text('#refreshes'), '0')
  t.equal(await text('#last-refresh'), 'never')
  await page.click('#refresh-now')
  await textIs('#refreshes', '1')
  t.not(await text('#last-refresh'), 'never')
  await page.waitForFunction(() => document.getElementById('token-status')?.textContent?.startsWith('Refreshed at'))
  t.equal(demo.emulator!.control.counters.refresh_token, 1)

  // The screenshot of the logged-in page, for the README (no button hovered).
  await page.mouse.move(0, 0)
  const target = process.env.UPDATE_SCREENSHOT === '1'
    ? SCREENSHOT
    : join(await mkdtemp(join(tmpdir(), 'demo-screenshot-')), 'demo.png')
  await page.screenshot({ path: target, fullPage: true })
  t.comment(`screenshot: ${target}`)

  t.same(problems, [], 'no console errors, no CSP violations')

  // Spotify revokes the session: "Refresh now" says so and offers to log in again.
  demo.emulator!.control.revokeAll()
  await page.click('#refresh-now')
  await textIs('#token-status a', 'Log in again')
  t.match(await text('#token-status'), /^The Spotify session has ended: log in again/)
  t.equal(await page.isDisabled('#refresh-now'), true)

  // Log out: the logged-out page again.
  await page.click('#logout')
  await page.waitForSelector('#login')
  t.equal(await text('#login'), 'Log in with Spotify')

  // A second login, cancelled on the consent page: a readable error page.
  await page.click('#login')
  await page.waitForSelector('button.cancel')
  await page.click('button.cancel')
  await page.waitForSelector('#error')
  t.equal(await text('#error h1'), 'Login cancelled')
  t.match(await text('#error'), /FST_SPOTIFY_AUTHORIZATION_DENIED/)
  t.equal(await text('#error #login'), 'Log in again')

  t.same(problems, Array(2).fill('Failed to load resource: the server responded with a status of 401 (Unauthorized)'),
    'only the 401s of the revoked refresh and of the error page itself')
  t.comment(`browser end-to-end test: ${Date.now() - started} ms`)
})
