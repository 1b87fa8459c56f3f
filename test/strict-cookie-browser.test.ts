/**
 * `cookie.sameSite: 'strict'` in a real browser (Debian's chromium, driven by
 * playwright-core): the login ends on a cross-site navigation from Spotify's
 * consent page, which does not carry a Strict cookie; the callback's small
 * page starts a same-site navigation that does, so the user lands logged in.
 * Spotify is played by the emulator under another site's name
 * (accounts.test, mapped to 127.0.0.1 in the browser only).
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
      emulator: { clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [redirectUri], name: 'Test App' }] },
      plugin: { redirectUri, cookie: { sameSite } },
      before (app) {
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
    // The consent page on a site of its own, as accounts.spotify.com is.
    await context.route(`${built.emulator.url}/authorize**`, async (route) => {
      await route.fulfill({ status: 302, headers: { location: route.request().url().replace(`127.0.0.1:${emulatorPort}`, `accounts.test:${emulatorPort}`) } })
    })
    const page = await context.newPage()
    const visited: string[] = []
    page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) visited.push(new URL(frame.url()).host) })
    await page.goto(`${origin}/login`)
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
