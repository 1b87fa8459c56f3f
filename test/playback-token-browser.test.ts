/**
 * The playback token route against what a real browser sends (Debian's
 * chromium, driven by playwright-core): the app's own page gets the token;
 * a page of another origin on the same site, whose requests carry the
 * session cookie, gets it by no means (`<script src>`, `<img>`, a no-cors
 * fetch, a credentialed fetch, a form).
 */
import { createServer } from 'node:http'
import { browserTest, launchChromium } from './helpers/chromium.js'
import { build, SCOPES } from './helpers/build.js'
import { freePort } from './helpers/ports.js'

const PATH = '/spotify-token'

browserTest('in chromium: the app\'s page gets the token, another origin\'s page never does', async (t) => {
  const seen: Array<{ method: string, site: string | undefined, status: number }> = []
  const built = await build(t, {
    plugin: { scopes: [...SCOPES, 'streaming'], playbackTokenPath: PATH },
    before (app) {
      app.addHook('onResponse', async (request, reply) => {
        if (request.url.startsWith(PATH)) seen.push({ method: request.method, site: request.headers['sec-fetch-site'] as string | undefined, status: reply.statusCode })
      })
      app.get('/player', async (_request, reply) => reply.type('text/html').send(`<!doctype html><title>player</title><script>
          window.tokens = Promise.all([
            fetch('${PATH}', { headers: { 'X-Spotify-Auth': '1' } }).then((r) => r.json()),
            fetch('${PATH}').then((r) => r.json())
          ])
        </script>`))
    }
  })
  const { jar, callback } = await built.login()
  const stored = await built.app.spotify.store.get((jar.cookies.get('spotify_session') as string).split('.')[0] as string)
  const raw = ([callback.headers['set-cookie']].flat() as string[]).find((c) => c.startsWith('spotify_session='))
  const cookieValue = (raw as string).slice('spotify_session='.length).split(';')[0] as string

  const appPort = await freePort()
  await built.app.listen({ host: '127.0.0.1', port: appPort })
  const appOrigin = `http://127.0.0.1:${appPort}`
  const tokenUrl = `${appOrigin}${PATH}`

  // Another origin on the same site (another port): SameSite=Lax sends the cookie along.
  const foreign = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html')
    response.end(`<!doctype html><title>elsewhere</title>
        <script src="${tokenUrl}"></script>
        <img src="${tokenUrl}">
        <form id="f" method="get" action="${tokenUrl}"></form>
        <script>
          window.attempts = Promise.allSettled([
            fetch('${tokenUrl}', { mode: 'no-cors', credentials: 'include' }),
            fetch('${tokenUrl}', { credentials: 'include', headers: { 'X-Spotify-Auth': '1' } }).then((r) => r.text())
          ]).then((results) => results.map((r) => r.status === 'fulfilled' ? (typeof r.value === 'string' ? r.value : 'opaque') : 'blocked'))
        </script>`)
  })
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => foreign.close(resolve)))
  const foreignUrl = `http://127.0.0.1:${(foreign.address() as { port: number }).port}/`

  const browser = await launchChromium(t)
  const context = await browser.newContext()
  await context.addCookies([{ name: 'spotify_session', value: cookieValue, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' }])
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)

  await page.goto(`${appOrigin}/player`)
  const tokens = await page.evaluate('window.tokens') as Array<{ accessToken: string, expiresAt: number }>
  t.same(tokens, [
    { accessToken: stored?.accessToken, expiresAt: stored?.expiresAt },
    { accessToken: stored?.accessToken, expiresAt: stored?.expiresAt }
  ], 'the app\'s page gets it, with the header or by fetch metadata alone')
  t.same(seen.map((s) => [s.method, s.site, s.status]), [['GET', 'same-origin', 200], ['GET', 'same-origin', 200]])

  seen.length = 0
  await page.goto(foreignUrl)
  const attempts = await page.evaluate('window.attempts') as string[]
  t.equal(attempts[0], 'opaque', 'a no-cors fetch gets an opaque answer')
  t.equal(attempts[1], 'blocked', 'a credentialed fetch is blocked: no CORS grant')
  // The form last: it navigates away.
  await Promise.all([page.waitForURL(`${tokenUrl}?`), page.evaluate('document.getElementById("f").submit()')])
  t.notOk((await page.content()).includes(stored?.accessToken as string), 'the form lands on a refusal')
  // The header needs a preflight, which finds no CORS grant: that fetch never goes out.
  const preflights = seen.filter((s) => s.method === 'OPTIONS')
  t.same(preflights.map((s) => s.status), [404], 'one preflight, refused')
  const gets = seen.filter((s) => s.method === 'GET')
  t.ok(gets.length >= 4, `${gets.length} GETs reached the app from the other origin (script, img, no-cors fetch, form)`)
  for (const request of gets) {
    t.equal(request.site, 'same-site', 'the session cookie came along: only the origin check stands in the way')
    t.equal(request.status, 403, 'refused')
  }
})
