import t from 'tap'
import { FORCED_REFRESHES } from '../demo/routes.js'
import { Browser, startDemo } from './helpers/demo.js'

/*
 * The demo's "Refresh now" (POST /demo/refresh) is built as the README
 * advises for production: only its own pages may post it (a form on
 * another port of the same host is same-site and carries the Lax cookie),
 * and a session may force only a few refreshes a minute.
 */

const OWN = 'http://127.0.0.1:5543'

t.test('a form posted from another origin is refused, and refreshes nothing', async (t) => {
  const { app, emulator } = await startDemo(t)
  const browser = new Browser(app)
  await browser.login()
  for (const headers of [{ origin: 'http://127.0.0.1:6666' }, { origin: 'null', 'sec-fetch-site': 'same-site' }] as Array<Record<string, string>>) {
    const refused = await browser.request({ method: 'POST', url: '/demo/refresh', html: false, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })
    t.equal(refused.statusCode, 403)
    t.equal(refused.json().error.code, 'FST_SPOTIFY_CROSS_SITE')
  }
  t.equal(emulator!.control.counters.refresh_token, 0)
  t.equal((await browser.request({ method: 'POST', url: '/demo/refresh', html: false, headers: { origin: OWN } })).statusCode, 200, 'the demo\'s own page may')
})

t.test('30 posts make at most a few token calls; the rest wait', async (t) => {
  const { app, emulator } = await startDemo(t)
  const browser = new Browser(app)
  await browser.login()
  const statuses: number[] = []
  let retryAfter: string | undefined
  for (let i = 0; i < 30; i++) {
    const answer = await browser.request({ method: 'POST', url: '/demo/refresh', html: false, headers: { origin: OWN } })
    statuses.push(answer.statusCode)
    if (answer.statusCode === 429) retryAfter = answer.headers['retry-after'] as string
  }
  t.same(statuses, [...Array(FORCED_REFRESHES).fill(200), ...Array(30 - FORCED_REFRESHES).fill(429)])
  t.equal(emulator!.control.counters.refresh_token, FORCED_REFRESHES, `${FORCED_REFRESHES} token calls, not 30`)
  t.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, 'Retry-After says when')
  t.equal((await browser.request({ url: '/session' })).statusCode, 200, 'the session is fine')
})
