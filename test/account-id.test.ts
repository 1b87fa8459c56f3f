import t from 'tap'
import { userAgentFamily } from '../plugin/session/user-agent.js'
import { build } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

/*
 * Spotify's account key (`account_id`, which it advises for linking
 * accounts) and what a device list shows of a login, learnt at login from
 * `GET /v1/me` and the request, kept across refreshes.
 */

const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

t.test('token.accountId and user.accountId come from /me account_id, and refreshes keep them', async (t) => {
  const seen: Array<{ accountId: unknown, tokenAccountId: unknown }> = []
  const { app, login, request, emulator } = await build(t, {
    plugin: { onLogin (_request, { token, user }) { seen.push({ accountId: user.accountId, tokenAccountId: token.accountId }) } }
  })
  const { jar } = await login()
  const me = await request(jar, { url: '/spotify/me' })
  const accountId = me.json().account_id as string
  t.match(accountId, /^[0-9A-Za-z]{22}$/)
  t.same(seen, [{ accountId, tokenAccountId: accountId }])
  const id = (jar.cookies.get('spotify_session') as string).split('.')[0] as string
  const stored = await app.spotify.store.get(id)
  t.equal(stored?.accountId, accountId)
  t.equal(stored?.displayName, 'Alice Andersson')
  t.equal(stored?.userAgent, 'Unknown browser', 'light-my-request sends no browser')
  const refreshed = await app.spotify.session(id).refresh()
  t.equal(refreshed?.accountId, accountId, 'kept across a refresh')
  t.equal(refreshed?.displayName, 'Alice Andersson')
  t.equal(refreshed?.userAgent, 'Unknown browser')
  t.equal(refreshed?.refreshStartedAt, undefined, 'no bookkeeping carried over')
  t.equal(emulator.control.counters.refresh_token, 1)
})

t.test('the login keeps the browser family, never the header', async (t) => {
  const { app } = await build(t)
  const start = await app.inject({ url: '/login', headers: { 'user-agent': CHROME_MAC } })
  const cookies = start.cookies.map((c) => `${c.name}=${c.value}`).join('; ')
  const authorize = await fetch(start.headers.location as string, { redirect: 'manual' })
  const back = new URL(authorize.headers.get('location') as string)
  const callback = await app.inject({ url: back.pathname + back.search, headers: { cookie: cookies, 'user-agent': CHROME_MAC } })
  t.equal(callback.statusCode, 302)
  const session = callback.cookies.find((c) => c.name === 'spotify_session')?.value as string
  const stored = await app.spotify.store.get(session.split('.')[0] as string)
  t.equal(stored?.userAgent, 'Chrome on macOS')
})

t.test('a /me without account_id: no accountId, nothing else changes', async (t) => {
  const api = await fakeUpstream(t, (app) => {
    app.get('/v1/me', async () => ({ id: 'legacy', display_name: null }))
  })
  const seen: unknown[] = []
  const built = await build(t, { plugin: { apiUrl: api, onLogin (_request, { token, user }) { seen.push([token.accountId, user.accountId, token.displayName]) } } })
  const { jar, callback } = await built.login()
  t.equal(callback.statusCode, 302)
  t.same(seen, [[undefined, undefined, null]])
  t.ok(jar.cookies.has('spotify_session'))
})

t.test('user agent families', async (t) => {
  const cases: Array<[string | undefined, string]> = [
    [CHROME_MAC, 'Chrome on macOS'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 'Edge on Windows'],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox on Linux'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', 'Safari on iOS'],
    ['Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36', 'Samsung Internet on Android'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0', 'Opera on Windows'],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on ChromeOS'],
    ['curl/8.5.0', 'curl'],
    ['something else', 'Unknown browser'],
    [undefined, 'Unknown browser']
  ]
  for (const [header, family] of cases) t.equal(userAgentFamily(header), family, family)
})
