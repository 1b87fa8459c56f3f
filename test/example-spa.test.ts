import { readFile } from 'node:fs/promises'
import t from 'tap'
import { appEnv, emulatorFor, Example, Visitor } from './helpers/examples.js'
import { browserTest, launchChromium } from './helpers/chromium.js'
import { freePort } from './helpers/ports.js'

t.test('the single-page app: its page, and the Web API through the proxy with the session cookie', async (t) => {
  const port = await freePort()
  const emulator = await emulatorFor(t, port)
  const app = await Example.start(t, 'spa/server.ts', appEnv(port, emulator))
  const visitor = new Visitor(app.origin)

  const page = await visitor.fetch('/')
  t.equal(page.headers.get('content-security-policy'), "default-src 'self'")
  t.match(await page.text(), '<script type="module" src="/page.js"></script>')
  const script = await visitor.fetch('/page.js')
  t.match(script.headers.get('content-type'), /^text\/javascript/)
  t.equal(await script.text(), await readFile(new URL('../examples/spa/page.js', import.meta.url), 'utf8'))
  const anonymous = await visitor.fetch('/session')
  t.equal(anonymous.status, 401, 'no session: 401 from GET /session, which the page reads')
  t.match(await anonymous.json(), { error: { code: 'FST_SPOTIFY_NO_SESSION' } })
  t.equal((await visitor.fetch('/spotify/me')).status, 401, 'and from the proxy')

  t.equal((await visitor.logIn(t)).headers.get('location'), '/')
  emulator.control.resetCounters()
  t.match(await (await visitor.fetch('/session')).json(), { user: { id: 'alice', displayName: 'Alice Andersson' } })
  t.same(emulator.control.apiCallsByEndpoint, {}, 'who is logged in costs no Web API call')
  const first = await (await visitor.fetch('/spotify/me/playlists?limit=5')).json() as { items: unknown[], next: string }
  t.equal(first.items.length, 5)
  t.match(first.next, /^\/spotify\/me\/playlists\?/, 'the next link points at the proxy')
  const second = await (await visitor.fetch(first.next)).json() as { items: unknown[], next: string | null }
  t.equal(second.items.length, 2, 'and the page follows it as it comes')
  t.equal(second.next, null)
})

browserTest('the single-page app in chromium: login, the playlists page by page, logout', async (t) => {
  const port = await freePort()
  const emulator = await emulatorFor(t, port)
  const app = await Example.start(t, 'spa/server.ts', appEnv(port, emulator))
  const browser = await launchChromium(t)
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))

  await page.goto(`${app.origin}/`)
  await page.click('#login a')
  await page.selectOption('#user_id', 'alice')
  await page.click('button[value=agree]')
  await page.waitForURL(`${app.origin}/`)
  await page.locator('#playlists li').nth(4).waitFor()
  t.equal(await page.textContent('#name'), 'Alice Andersson')
  t.equal(emulator.control.apiCallsByEndpoint['GET /v1/me'], 1, 'the login\'s GET /v1/me only: the page asked GET /session')
  t.equal(await page.locator('#playlists li').count(), 5, 'the first page')
  await page.click('#more')
  await page.locator('#playlists li').nth(6).waitFor()
  t.ok(await page.locator('#more').isHidden(), 'no More after the last page')
  t.ok((await page.locator('#playlists li').allTextContents()).includes('Gym <Bangers> & "Hits"'), 'names shown as text')

  await page.click('#logout')
  await page.locator('#login').waitFor()
  t.ok(await page.locator('#app').isHidden(), 'logged out: the login link again')
  t.same(errors, [], 'no script error')
})
