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
