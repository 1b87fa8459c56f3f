/**
 * `cookie.sameSite: 'strict'` in a real browser (Debian's chromium, driven by
 * playwright-core): the login ends on a cross-site navigation from Spotify's
 * consent page, which does not carry a Strict cookie; the callback's small
 * page starts a same-site navigation that does, so the user lands logged in.
 * Spotify is played by the emulator under another site's name
 * (accounts.test, mapped to 127.0.0.1 in the browser only), and the user
 * presses "Agree" on its consent page, so that the way back is a
 * navigation that page started, as on Spotify. (A navigation the browser
 * itself starts, such as page.goto, counts as same-site and would prove
 * nothing.) Checked once against a callback that redirects instead: the
 * strict case then lands logged out, the lax one logged in.
 */
import { chromium } from 'playwright-core'
import { browserTest, CHROMIUM } from './helpers/chromium.js'
import { build, CLIENT_ID, CLIENT_SECRET } from './helpers/build.js'
import { freePort } from './helpers/ports.js'

for (const sameSite of ['strict', 'lax'] as const) {
  browserTest(`in chromium: with SameSite=${sameSite} the user lands logged in after Spotify's redirect`, async (t) => {
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    const redirectUri = `${origin}/callback`
    const built = await build(t, {
      emulator: { autoApprove: false, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [redirectUri], name: 'Test App' }] },
      plugin: { redirectUri, cookie: { sameSite } },
      before (app) {
        // The consent page on a site of its own, as accounts.spotify.com
        // is: the login's redirect names the emulator as accounts.test.
        app.addHook('onSend', async (request, reply) => {
          const location = reply.getHeader('location')
          if (request.url.startsWith('/login') && typeof location === 'string') {
            reply.header('location', location.replace(/^http:\/\/127\.0\.0\.1:/, 'http://accounts.test:'))
          }
        })
        app.get('/', async (request, reply) => {
          const token = await request.spotify.getToken()
          return reply.type('text/html').send(`<!doctype html><title>home</title><p id="who">${token === null ? 'logged out' : `logged in as ${token.userId}`}</p>`)
        })
      }
    })
    await built.app.listen({ host: '127.0.0.1', port })

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--host-resolver-rules=MAP accounts.test 127.0.0.1']
    })
    t.teardown(() => browser.close())
    const context = await browser.newContext()
    const emulatorPort = new URL(built.emulator.url).port
    const page = await context.newPage()
    const visited: string[] = []
    page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) visited.push(new URL(frame.url()).host) })
    await page.goto(`${origin}/login`)
    await page.waitForURL(`http://accounts.test:${emulatorPort}/**`)
    await page.selectOption('#user_id', 'alice')
    await page.click('button.agree')
    await page.waitForURL(`${origin}/`)
    t.equal(await page.textContent('#who'), 'logged in as alice')
    t.ok(visited.length > 0)
    const cookie = (await context.cookies(origin)).find((c) => c.name === 'spotify_session')
    t.equal(cookie?.sameSite, sameSite === 'strict' ? 'Strict' : 'Lax')
    // A later visit carries it too.
    await page.goto(`${origin}/`)
    t.equal(await page.textContent('#who'), 'logged in as alice')
  })
}
