import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import t, { type Test } from 'tap'

/** Debian's chromium: never a browser downloaded by playwright. */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * A top-level browser test: run when chromium is installed; otherwise a
 * loud skip on a user's machine, and a failure under CI, which must run it.
 */
export function browserTest (name: string, fn: (t: Test) => Promise<void>): void {
  if (existsSync(CHROMIUM)) {
    t.test(name, fn)
    return
  }
  const missing = `${CHROMIUM} is missing: install it with apt-get install -y --no-install-recommends chromium`
  if (process.env.CI !== undefined) {
    t.fail(`${missing}. CI must run the browser test.`)
  } else {
    const message = `!!! BROWSER TEST SKIPPED: ${missing}`
    t.comment(message)
    t.skip(message, () => {})
  }
}

/**
 * Headless chromium, closed at teardown. Without the background-networking
 * flags it keeps trying hosts this machine cannot reach.
 */
export async function launchChromium (t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  return browser
}
