/** The demo's admin panel: `fastify.spotify.usage()` as a page and as JSON, for a logged-in user. */
import t from 'tap'
import type { SpotifyEmulator } from '../plugin/emulator/index.js'
import { Browser, startDemo } from './helpers/demo.js'

t.test('the usage panel shows what the server asked of Spotify, as the emulator counted it', async (t) => {
  const { app, emulator } = await startDemo(t)
  const control = (emulator as SpotifyEmulator).control
  const browser = new Browser(app)
  t.equal((await browser.request({ url: '/demo/usage', html: false })).statusCode, 401, 'not for anyone')

  await browser.login()
  const home = await browser.request({ url: '/' })
  t.match(home.body, 'href="/demo/usage"', 'the logged-in page links to it')
  t.equal((await browser.request({ url: '/spotify/me/playlists?limit=2', html: false })).statusCode, 200)
  t.equal((await browser.request({ url: '/demo/search?q=a', html: false })).statusCode, 200)

  const json = await browser.request({ url: '/demo/usage', html: false })
  t.equal(json.statusCode, 200)
  t.equal(json.headers['cache-control'], 'no-store')
  const usage = json.json()
  t.equal(usage.hour.networkCalls, control.counters.api)
  t.equal(usage.hour.calls['/v1/me/playlists'].network, 1)
  t.equal(usage.hour.calls['/v1/search'].network, 1)
  t.same(usage.hour.rateLimited, { rate: 0, quota: 0 })

  const page = await browser.request({ url: '/demo/usage' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, `<dd class="network-calls">${control.counters.api}</dd>`)
  t.match(page.body, '<code>/v1/me/playlists</code>')
  t.match(page.body, 'id="usage-day"')
})

t.test('the usage panel before any call: no rows, no error', async (t) => {
  const { renderUsage } = await import('../demo/html.js')
  const empty = { calls: {}, networkCalls: 0, rateLimited: { rate: 0, quota: 0 }, refreshes: 0 }
  const html = renderUsage({ nonce: 'n', mode: 'emulator' } as Parameters<typeof renderUsage>[0], { hour: empty, day: { ...empty, calls: { '/v1/me': { cache: 2 } } }, at: 0 })
  t.match(html, 'No calls.')
  t.match(html, '<tr><td><code>/v1/me</code></td><td>0</td><td>2</td><td>0</td></tr>')
})
