/**
 * The demo's devices panel in a real browser (Debian's chromium, driven by
 * playwright-core): three browsers of one user, told apart by their
 * User-Agent. "Sign out" on one of the others ends that session only;
 * "Sign out everywhere else" ends the rest, and the page that pressed it
 * stays logged in. The demo runs with EMULATOR_REFRESH_TOKEN_DAYS, so the
 * "reconnect by …" prompt shows too.
 */
import type { Browser, Page } from 'playwright-core'
import { buildDemo } from '../demo/app.js'
import { browserTest, launchChromium } from './helpers/chromium.js'
import { freePort, testConfig } from './helpers/demo.js'

// Functions passed to page.waitForFunction run in the browser, where this exists.
declare const document: { querySelectorAll (s: string): { length: number } }

const USER_AGENTS = {
  chrome: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  safari: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
} as const

browserTest('in chromium: the devices panel signs one other device out, then everywhere else', async (t) => {
  const port = await freePort()
  const demo = await buildDemo(testConfig({ PORT: String(port), EMULATOR_REFRESH_TOKEN_DAYS: '20' }), { emulator: { autoApprove: true } })
  t.teardown(() => demo.close())
  await demo.app.listen({ host: '127.0.0.1', port })
  const home = `http://127.0.0.1:${port}/`
  const chromium = await launchChromium(t)
  const problems: string[] = []
  // Pages whose session this test ends from another device. Until it
  // reloads them, such a page's poll of /demo/token-info may come (every
  // 5 s) and be refused: the page then offers to log in again, and
  // chromium reports the 401 on the console. Only that is expected.
  const endedElsewhere = new Set<Page>()

  /** A browser of its own (cookies included), logged in as alice. */
  async function loggedIn (browser: Browser, userAgent: string): Promise<Page> {
    const context = await browser.newContext({ userAgent, locale: 'en-GB', timezoneId: 'UTC' })
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    page.on('pageerror', (error) => { problems.push(error.message) })
    page.on('console', (message) => {
      if (message.type() !== 'error') return
      const refused = message.text().includes('status of 401') && new URL(message.location().url).pathname === '/demo/token-info'
      if (!(refused && endedElsewhere.has(page))) problems.push(message.text())
    })
    await page.goto(`${home}login`)
    await page.waitForURL(home)
    await page.waitForSelector('#display-name:text("Alice Andersson")')
    return page
  }
  /** The device list as the panel shows it, once it holds `count` entries. */
  async function devices (page: Page, count: number): Promise<string[]> {
    await page.waitForFunction((n) => document.querySelectorAll('#devices li').length === n, count)
    return (await page.locator('#devices li span').allTextContents()).map((text) => text.split(' · ')[0] + (text.endsWith('this device') ? ' (this)' : ''))
  }
  /** Whether `page`, reloaded, still has its session. */
  async function stillLoggedIn (page: Page): Promise<boolean> {
    await page.reload()
    return await page.locator('#logout').count() === 1
  }

  const laptop = await loggedIn(chromium, USER_AGENTS.chrome)
  const linux = await loggedIn(chromium, USER_AGENTS.firefox)
  const phone = await loggedIn(chromium, USER_AGENTS.safari)

  // The prompt: this login's six months end in about 20 days.
  await laptop.reload()
  await laptop.waitForSelector('#reconnect:visible')
  t.match(await laptop.textContent('#reconnect'), /^Spotify asks you to reconnect by \d{4}-\d\d-\d\d: reconnect now\.$/)

  const listed = await devices(laptop, 3)
  t.equal(listed[0], 'Chrome on macOS (this)', 'this device first')
  t.same(listed.slice(1).sort(), ['Firefox on Linux', 'Safari on iOS'], 'then the others (logged in within a second: in any order)')
  t.ok(await laptop.isVisible('#end-others'))
  t.equal(await laptop.locator('#devices li button').count(), 2, 'a "Sign out" for each other device, none for this one')

  // "Sign out" on the Firefox: that session ends, and only that one.
  endedElsewhere.add(linux)
  await laptop.locator('#devices li', { hasText: 'Firefox on Linux' }).locator('button').click()
  t.same(await devices(laptop, 2), ['Chrome on macOS (this)', 'Safari on iOS'])
  t.equal(await stillLoggedIn(linux), false, 'the Firefox is logged out')
  t.equal(await linux.textContent('#login'), 'Log in with Spotify')
  t.equal(await stillLoggedIn(phone), true, 'the phone is not')

  // "Sign out everywhere else": the phone too; the laptop stays.
  endedElsewhere.add(phone)
  await laptop.click('#end-others')
  await laptop.waitForSelector('#devices-status:text("Signed out of 1 other device")')
  t.same(await devices(laptop, 1), ['Chrome on macOS (this)'])
  t.ok(await laptop.isHidden('#end-others'), 'nothing else to sign out')
  t.equal(await stillLoggedIn(phone), false, 'the phone is logged out')
  t.equal(await stillLoggedIn(laptop), true, 'the laptop is still logged in')
  t.same(await demo.app.spotify.sessionsOf('alice').then((ids) => ids.length), 1)

  t.same(problems, [], 'no console errors, no CSP violations')
})
