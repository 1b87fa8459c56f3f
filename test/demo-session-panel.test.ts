import t from 'tap'
import { RECONNECT_DAYS } from '../demo/html.js'
import { Browser, startDemo } from './helpers/demo.js'

/*
 * The demo's session panel: "reconnect by …" once fewer than 30 days remain
 * before Spotify stops accepting the refresh token, and the devices list
 * the page's script fills from the plugin's session routes.
 */

const DAY = 24 * 3600

t.test('the page asks to reconnect only in the refresh token\'s last 30 days', async (t) => {
  const { app } = await startDemo(t)
  const browser = new Browser(app)
  await browser.login()
  const fresh = await browser.request({ url: '/' })
  t.match(fresh.body, /<p class="status" id="reconnect" hidden>/, 'a new login: six months ahead, no prompt')
  t.match(fresh.body, /<ul class="devices" id="devices">/)

  // The same session, with its refresh token ending in 10 days (an older authorization).
  const store = app.spotify.store
  const token = await store.get(browser.sessionId)
  const reauthBy = Math.floor(Date.now() / 1000) + 10 * DAY
  await store.set(browser.sessionId, { ...token!, refreshTokenExpiresAt: reauthBy, authorizedAt: reauthBy - 182 * DAY })
  const late = await browser.request({ url: '/' })
  t.match(late.body, /<p class="status" id="reconnect">Spotify asks you to reconnect by <time datetime="[^"]+">\d{4}-\d\d-\d\d<\/time>: <a href="\/login">reconnect now<\/a>/)
  const session = await browser.request({ url: '/session', html: false })
  t.equal(session.json().reauthBy, reauthBy, 'GET /session, which the script reads, agrees')
  t.ok(session.json().reauthBy * 1000 - Date.now() < RECONNECT_DAYS * DAY * 1000)
})

t.test('EMULATOR_REFRESH_TOKEN_DAYS: a login whose six months end in 20 days shows "reconnect by", and the emulator ends it then', async (t) => {
  let clock = Date.now()
  const { app } = await startDemo(t, { EMULATOR_REFRESH_TOKEN_DAYS: '20' }, { emulator: { autoApprove: true, now: () => clock } })
  const browser = new Browser(app)
  await browser.login()
  const page = await browser.request({ url: '/' })
  t.match(page.body, /<p class="status" id="reconnect">Spotify asks you to reconnect by <time datetime="[^"]+">\d{4}-\d\d-\d\d<\/time>/, 'shown from the first page')
  const { reauthBy } = (await browser.request({ url: '/session', html: false })).json()
  // 20 days, or up to 3 more when the day six months before is one its month lacks (31 August → 3 March).
  const left = reauthBy - Math.floor(Date.now() / 1000)
  t.ok(left > 19 * DAY && left <= 23 * DAY, `GET /session, which the script reads: reauthBy ${(left / DAY).toFixed(1)} days away`)
  const stored = await app.spotify.store.get(browser.sessionId)
  t.equal(stored?.refreshTokenExpiresAt, reauthBy, 'as the store keeps it')
  t.same(await app.spotify.sessionsExpiringBefore(Math.floor(Date.now() / 1000) + 30 * DAY), [browser.sessionId], 'a job finds it too')

  // A refresh keeps it; 20 days on, the emulator refuses the refresh token as expired.
  t.equal((await browser.request({ method: 'POST', url: '/demo/refresh', html: false })).statusCode, 200)
  t.equal((await browser.request({ url: '/session', html: false })).json().reauthBy, reauthBy, 'a refresh keeps the end')
  clock += 20 * DAY * 1000 + 1000
  const ended = await browser.request({ method: 'POST', url: '/demo/refresh', html: false })
  t.equal(ended.statusCode, 401)
  t.equal(ended.json().error.code, 'FST_SPOTIFY_SESSION_REVOKED')
})

t.test('without EMULATOR_REFRESH_TOKEN_DAYS, the emulator keeps Spotify\'s six months', async (t) => {
  let clock = Date.now()
  const { app } = await startDemo(t, {}, { emulator: { autoApprove: true, now: () => clock } })
  const browser = new Browser(app)
  await browser.login()
  clock += 21 * DAY * 1000
  t.equal((await browser.request({ method: 'POST', url: '/demo/refresh', html: false })).statusCode, 200)
})

t.test('the devices the panel lists, and signing the others out', async (t) => {
  const { app } = await startDemo(t)
  const here = new Browser(app)
  const there = new Browser(app)
  await here.login()
  await there.login()
  const listed = (await here.request({ url: '/session/devices', html: false })).json().devices
  t.equal(listed.length, 2)
  const ended = await here.request({ method: 'POST', url: '/session/devices/end-others', html: false, headers: { origin: 'http://127.0.0.1:5543' } })
  t.same(ended.json(), { ended: 1 })
  t.equal((await there.request({ url: '/session', html: false })).statusCode, 401)
})
