import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { createSpotifyEmulator } from '../plugin/emulator/index.js'
import type { SpotifyToken } from '../plugin/index.js'
import { Browser, startDemo } from './helpers/demo.js'

/** The nonce of a page's CSP, asserting that the header is there. */
function nonceOf (t: Test, response: LightMyRequestResponse): string {
  const csp = response.headers['content-security-policy'] as string
  t.match(csp, /default-src 'none'/)
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1] as string
  t.ok(nonce, 'a script nonce')
  t.match(csp, `style-src 'nonce-${nonce}'`)
  return nonce
}

/** Asserts an HTML page, never JSON or a stack trace. */
function isPage (t: Test, response: LightMyRequestResponse, status: number): void {
  t.equal(response.statusCode, status)
  t.match(response.headers['content-type'], /^text\/html; charset=utf-8/)
  t.equal(response.headers['cache-control'], 'no-store')
  t.match(response.body, /^<!doctype html>/)
  t.notMatch(response.body, /\n\s+at |"error":|node_modules/, 'no JSON, no stack trace')
}

t.test('logged out: a page with one "Log in with Spotify" button, on the emulator', async (t) => {
  const { app, emulator } = await startDemo(t)
  const page = await new Browser(app).request({ url: '/' })
  isPage(t, page, 200)
  const nonce = nonceOf(t, page)
  t.match(page.headers['content-security-policy'], `img-src 'self' https: ${emulator!.url}`)
  t.match(page.body, `<style nonce="${nonce}">`)
  t.notMatch(page.body, /<script/, 'no script when logged out')
  t.match(page.body, /<a class="button primary" id="login" href="\/login">Log in with Spotify<\/a>/)
  t.match(page.body, /id="mode">Spotify emulator</)
  t.match(page.body, /pick alice, bob or carol/)
  t.notMatch(page.body, /https?:\/\/(?!127\.0\.0\.1)[\w.-]+\/.*\.(css|js)/, 'no external resources')
})

t.test('logged in: the header from GET /session (no Web API call), token panel, and the playlists script', async (t) => {
  const { app, emulator } = await startDemo(t)
  const browser = new Browser(app)
  const callback = await browser.login()
  t.equal(callback.statusCode, 302)
  t.equal(callback.headers.location, '/')
  emulator!.control.resetCounters()

  const page = await browser.request({ url: '/' })
  isPage(t, page, 200)
  const nonce = nonceOf(t, page)
  // The header is the script's, from GET /session: the page holds its places.
  t.match(page.body, /<h1 id="display-name">…<\/h1>/)
  t.match(page.body, /<div class="avatar" id="avatar" aria-hidden="true"><\/div>/)
  t.match(page.body, /<dd id="user-id"><\/dd>/)
  t.match(page.body, /call\('GET', '\/session'\)\.then\(\(session\) => \{\n\s+const name = session\.user\.displayName \|\| session\.user\.id\n\s+\$\('display-name'\)\.textContent = name/)
  t.notMatch(page.body, /Alice Andersson|<img class="avatar"/, 'nothing of the profile rendered by the server')
  const session = await browser.request({ url: '/session', html: false })
  t.match(session.json(), { user: { id: 'alice', accountId: /^\w{22}$/, displayName: 'Alice Andersson' } }, 'what the script puts in the header')
  t.same(emulator!.control.apiCallsByEndpoint, {}, 'the page and its header made no Web API call')
  t.equal(emulator!.control.counters.api, 0)
  t.match(page.body, /<dd id="refreshes">0<\/dd>/)
  t.match(page.body, /<dd id="last-refresh">never<\/dd>/)
  t.match(page.body, /<ul class="chips" id="scopes"><li>user-read-private<\/li><li>user-read-email<\/li><li>playlist-read-private<\/li><li>playlist-read-collaborative<\/li><\/ul>/)
  t.match(page.body, /data-expires-in="1[01]\d"/, 'the emulator token lifetime: 120 s')
  t.match(page.body, /<span id="expires-in">[01]:\d\d<\/span>/)
  t.match(page.body, /in its last 60 s/)
  t.match(page.body, /<form method="post" action="\/demo\/refresh" id="refresh-form"><button class="primary" id="refresh-now">Refresh now<\/button><\/form>/)
  t.match(page.body, /<form method="post" action="\/logout"><button class="ghost" id="logout">Log out<\/button><\/form>/)
  t.match(page.body, `<script nonce="${nonce}">`)
  t.match(page.body, /load\('\/spotify\/me\/playlists\?limit=' \+ list\.dataset\.limit\)/)
  t.match(page.body, /data-limit="6"/)

  const token = await app.spotify.store.get(browser.sessionId) as SpotifyToken
  t.notMatch(page.body, token.accessToken, 'no access token in the page')
  t.notMatch(page.body, token.refreshToken, 'no refresh token in the page')
})

t.test('the playlists the page loads come through the proxy, paged', async (t) => {
  const { app } = await startDemo(t)
  const browser = new Browser(app)
  await browser.login()
  const first = await browser.request({ url: '/spotify/me/playlists?limit=6', html: false })
  t.equal(first.statusCode, 200)
  const page = first.json()
  t.equal(page.items.length, 6)
  t.ok(page.total > 6)
  t.equal(page.next, '/spotify/me/playlists?offset=6&limit=6', 'a link through the proxy, as the page follows it')
})

t.test('another user with one scope (bob, without user-read-private): the header needs no scope', async (t) => {
  const { app } = await startDemo(t, { SPOTIFY_SCOPES: 'playlist-read-private' }, { emulator: { autoApprove: 'bob' } })
  const browser = new Browser(app)
  await browser.login()
  const page = await browser.request({ url: '/' })
  isPage(t, page, 200)
  t.equal(await browser.loggedInAs(), 'Bob Baker')
  t.match(page.body, /<ul class="chips" id="scopes"><li>playlist-read-private<\/li><\/ul>/)
})

t.test('token-info: what the page may know about the token, never the token', async (t) => {
  const { app } = await startDemo(t)
  const browser = new Browser(app)
  const none = await browser.request({ url: '/demo/token-info', html: false })
  t.equal(none.statusCode, 401)
  t.same(none.json(), { error: { status: 401, message: 'Not logged in with Spotify', code: 'FST_SPOTIFY_NO_SESSION' } })

  await browser.login()
  const response = await browser.request({ url: '/demo/token-info', html: false })
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  const info = response.json()
  t.same(Object.keys(info).sort(), ['expiresAt', 'expiresIn', 'lastRefreshAt', 'refreshMargin', 'refreshes', 'scopes'])
  t.same(info.scopes, ['user-read-private', 'user-read-email', 'playlist-read-private', 'playlist-read-collaborative'])
  t.ok(info.expiresIn > 110 && info.expiresIn <= 120, `expires in about 120 s (${info.expiresIn})`)
  t.equal(info.refreshes, 0)
  t.equal(info.lastRefreshAt, null)
  t.equal(info.refreshMargin, 60)
  const token = await app.spotify.store.get(browser.sessionId) as SpotifyToken
  t.equal(info.expiresAt, new Date(token.expiresAt * 1000).toISOString())
  t.notMatch(response.body, token.accessToken)
  t.notMatch(response.body, token.refreshToken)
})

t.test('EMULATOR_TOKEN_TTL: the emulator\'s access tokens live that long', async (t) => {
  const { app } = await startDemo(t, { EMULATOR_TOKEN_TTL: '600' })
  const browser = new Browser(app)
  await browser.login()
  const info = (await browser.request({ url: '/demo/token-info', html: false })).json()
  t.ok(info.expiresIn > 590 && info.expiresIn <= 600, `expires in about 600 s (${info.expiresIn})`)
  t.equal(info.refreshMargin, 60)
})

t.test('"Refresh now" refreshes the token and the count goes up', async (t) => {
  const { app, emulator } = await startDemo(t)
  const browser = new Browser(app)
  const none = await browser.request({ method: 'POST', url: '/demo/refresh', html: false })
  t.equal(none.statusCode, 401)
  t.equal(none.json().error.code, 'FST_SPOTIFY_NO_SESSION')

  await browser.login()
  const before = await app.spotify.store.get(browser.sessionId) as SpotifyToken
  const response = await browser.request({ method: 'POST', url: '/demo/refresh', html: false })
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  const info = response.json()
  t.equal(info.refreshes, 1)
  t.equal(emulator!.control.counters.refresh_token, 1)
  const after = await app.spotify.store.get(browser.sessionId) as SpotifyToken
  t.not(after.accessToken, before.accessToken, 'a new access token')
  t.equal(info.lastRefreshAt, new Date(after.obtainedAt * 1000).toISOString(), 'the last refresh is when the new token was obtained')
  t.notMatch(response.body, after.accessToken)

  // The page's form without JavaScript: a browser POST, back to the page.
  const form = await browser.request({
    method: 'POST',
    url: '/demo/refresh',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: ''
  })
  t.equal(form.statusCode, 303)
  t.equal(form.headers.location, '/')
  const page = await browser.request({ url: '/' })
  t.match(page.body, /<dd id="refreshes">2<\/dd>/)
  t.match(page.body, /<dd id="last-refresh"><time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">\d\d:\d\d:\d\d UTC<\/time><\/dd>/)
})

t.test('"Log out" (a form POST) ends the session and shows the logged-out page', async (t) => {
  const { app } = await startDemo(t)
  const browser = new Browser(app)
  await browser.login()
  const sessionId = browser.sessionId
  const out = await browser.request({
    method: 'POST',
    url: '/logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: ''
  })
  t.equal(out.statusCode, 303, 'not 415: the demo accepts urlencoded forms')
  t.equal(out.headers.location, '/')
  t.equal(browser.cookies.has('spotify_session'), false)
  t.equal(await app.spotify.store.get(sessionId), undefined)
  const page = await browser.request({ url: '/' })
  t.match(page.body, /Log in with Spotify/)
})

t.test('Cancel on the consent page: a readable page offering to log in again', async (t) => {
  const { app } = await startDemo(t, {}, {})
  const browser = new Browser(app)
  const page = await browser.consent('cancel')
  isPage(t, page, 401)
  nonceOf(t, page)
  t.match(page.body, /Error 401 · FST_SPOTIFY_AUTHORIZATION_DENIED/)
  t.match(page.body, /<h1>Login cancelled<\/h1>/)
  t.match(page.body, /Cancel was pressed on the consent page/)
  t.match(page.body, /Spotify authorization failed: access_denied/)
  t.match(page.body, /<a class="button primary" id="login" href="\/login">Log in again<\/a>/)
  t.equal(browser.cookies.has('spotify_session'), false)

  const again = await browser.consent('agree', 'carol')
  t.equal(again.statusCode, 302, 'logging in again works')
  t.equal(await browser.loggedInAs(), 'Carol Chen')
})

t.test('a user outside the allow-list chosen on the consent page: a page that names the allow-list', async (t) => {
  const { app } = await startDemo(t, {}, {})
  const browser = new Browser(app)
  const page = await browser.consent('agree', 'frank')
  isPage(t, page, 403)
  t.match(page.body, /Error 403 · DEMO_USER_NOT_ALLOWED/)
  t.match(page.body, /<h1>This Spotify account is not on the app&#39;s allow-list<\/h1>/)
  t.match(page.body, /only serves the users on its allow-list: at most five, added under &quot;User Management&quot; in the app&#39;s dashboard/)
  t.notMatch(page.body, /not answering properly/)
  t.equal(browser.cookies.has('spotify_session'), false, 'no session')

  // A script following the same login gets the refusal as JSON.
  const authorize = await browser.startLogin()
  const form = new URLSearchParams(authorize.searchParams)
  form.set('decision', 'agree')
  form.set('user_id', 'frank')
  const answer = await fetch(new URL('/authorize/decision', authorize), {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString()
  })
  const back = new URL(answer.headers.get('location') as string)
  const json = await browser.request({ url: back.pathname + back.search, html: false })
  t.equal(json.statusCode, 403)
  t.same(json.json(), { error: { status: 403, message: 'Spotify answered 403 to the new session\'s GET /v1/me', code: 'DEMO_USER_NOT_ALLOWED' } })

  t.equal((await browser.consent('agree', 'erin')).statusCode, 302, 'a listed user logs in')
})

t.test('a stale callback URL: a readable page', async (t) => {
  const { app } = await startDemo(t)
  const browser = new Browser(app)
  const authorize = await fetch(await browser.startLogin(), { redirect: 'manual' })
  const callback = authorize.headers.get('location') as string
  t.equal((await browser.back(callback)).statusCode, 302)

  const replay = await browser.back(callback)
  isPage(t, replay, 403)
  t.match(replay.body, /FST_SPOTIFY_INVALID_STATE/)
  t.match(replay.body, /<h1>This login link is no longer valid<\/h1>/)
  t.match(replay.body, /Log in again/)
  t.equal(await browser.loggedInAs(), 'Alice Andersson', 'the session is untouched')
})

t.test('a callback whose code Spotify refuses: a readable page', async (t) => {
  const { app } = await startDemo(t)
  const browser = new Browser(app)
  const authorize = await browser.startLogin()
  const state = authorize.searchParams.get('state') as string
  const page = await browser.request({ url: `/callback?code=not-a-code&state=${encodeURIComponent(state)}` })
  isPage(t, page, 400)
  t.match(page.body, /FST_SPOTIFY_INVALID_CODE/)
  t.match(page.body, /<h1>Spotify refused the login<\/h1>/)
  t.notMatch(page.body, /not-a-code/, 'the code is not echoed')
})

t.test('a session Spotify revoked: a readable page, then the logged-out page', async (t) => {
  const { app, emulator } = await startDemo(t)
  const browser = new Browser(app)
  await browser.login()
  emulator!.control.revokeAll()
  // Due for a refresh: the page's getToken() asks Spotify, which refuses.
  const token = await app.spotify.store.get(browser.sessionId) as SpotifyToken
  await app.spotify.store.update(browser.sessionId, token, { ...token, expiresAt: Math.floor(Date.now() / 1000) - 1 })
  const page = await browser.request({ url: '/' })
  isPage(t, page, 401)
  t.match(page.body, /FST_SPOTIFY_SESSION_REVOKED/)
  t.match(page.body, /<h1>Your Spotify session has ended<\/h1>/)
  t.match(page.body, /Log in again/)
  t.match((await browser.request({ url: '/' })).body, /Log in with Spotify/)
})

t.test('a revoked session seen by the page script: Spotify-shaped JSON', async (t) => {
  const { app, emulator } = await startDemo(t)
  const browser = new Browser(app)
  await browser.login()
  emulator!.control.revokeAll()
  emulator!.control.expireAccessTokens()
  const response = await browser.request({ method: 'POST', url: '/demo/refresh', html: false })
  t.equal(response.statusCode, 401)
  t.match(response.headers['content-type'], /^application\/json/)
  t.same(response.json(), {
    error: { status: 401, message: 'The Spotify session has ended: log in again', code: 'FST_SPOTIFY_SESSION_REVOKED' }
  })
  t.equal(browser.cookies.has('spotify_session'), false, 'the cookie is cleared')
})

t.test('errors of non-browser clients are Spotify-shaped JSON', async (t) => {
  const { app } = await startDemo(t)
  const browser = new Browser(app)
  const stale = await browser.request({ url: '/callback?code=x&state=y', html: false })
  t.equal(stale.statusCode, 403)
  t.same(stale.json(), { error: { status: 403, message: 'Invalid state: start the login again', code: 'FST_SPOTIFY_INVALID_STATE' } })

  const missing = await browser.request({ url: '/nope?secret=1', html: false })
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { error: { status: 404, message: 'There is no page at GET /nope', code: 'DEMO_NOT_FOUND' } })

  const proxy = await browser.request({ url: '/spotify/me', html: false })
  t.equal(proxy.statusCode, 401)
  t.equal(proxy.json().error.code, 'FST_SPOTIFY_NO_SESSION')
})

t.test('an unknown page in a browser: a readable 404 page', async (t) => {
  const { app } = await startDemo(t)
  const page = await new Browser(app).request({ url: '/nope' })
  isPage(t, page, 404)
  t.match(page.body, /<h1>Page not found<\/h1>/)
  t.match(page.body, /There is no page at GET \/nope/)
})

t.test('a 4xx of Fastify itself keeps its code, with a generic page', async (t) => {
  const { app } = await startDemo(t)
  const browser = new Browser(app)
  const page = await browser.request({ method: 'POST', url: '/demo/refresh', headers: { 'content-type': 'application/xml' }, payload: '<x/>' })
  isPage(t, page, 415)
  t.match(page.body, /FST_ERR_CTP_INVALID_MEDIA_TYPE/)
  t.match(page.body, /<h1>The request could not be handled<\/h1>/)
})

t.test('the Web API refusing the demo\'s own call (the catalog search): a readable page, telling the 403s apart', async (t) => {
  const { app, emulator } = await startDemo(t)
  const browser = new Browser(app)
  emulator!.control.setOwnerPremium(false)
  const forbidden = await browser.request({ url: '/demo/search?q=a' })
  isPage(t, forbidden, 502)
  t.match(forbidden.body, /DEMO_SPOTIFY_API_ERROR/)
  t.match(forbidden.body, /Spotify&#39;s Web API answered HTTP 403: the app&#39;s owner has no active Premium subscription/)
  emulator!.control.setOwnerPremium(true)
  emulator!.control.failApiCalls(1, 403)
  t.match((await browser.request({ url: '/demo/search?q=b' })).body, /HTTP 403: Spotify refused the request/)

  emulator!.control.failApiCalls(1, 404)
  const json = await browser.request({ url: '/demo/search?q=c', html: false })
  t.equal(json.statusCode, 502)
  t.same(json.json(), { error: { status: 502, message: 'Spotify\'s Web API answered HTTP 404', code: 'DEMO_SPOTIFY_API_ERROR' } })

  // A user taken off the allow-list after login: the page loads (its header
  // needs no Web API call); their Web API calls are Spotify's 403, passed on.
  await browser.login()
  emulator!.control.disallowUser('alice')
  isPage(t, await browser.request({ url: '/' }), 200)
  t.equal(await browser.loggedInAs(), 'Alice Andersson')
  const playlists = await browser.request({ url: '/spotify/me/playlists', html: false })
  t.equal(playlists.statusCode, 403)
  t.equal(playlists.body, 'User not registered in the Developer Dashboard')
})

t.test('real Spotify credentials: no emulator, the plugin points at accounts.spotify.com', async (t) => {
  const demo = await startDemo(t, { SPOTIFY_CLIENT_ID: 'abc123', SPOTIFY_CLIENT_SECRET: 'def456' })
  t.equal(demo.emulator, undefined)
  const browser = new Browser(demo.app)
  const page = await browser.request({ url: '/' })
  t.match(page.body, /id="mode">Spotify</)
  t.match(page.body, /You will be sent to Spotify/)
  t.match(page.headers['content-security-policy'], /img-src 'self' https:;/)
  const authorize = await browser.startLogin()
  t.equal(authorize.origin + authorize.pathname, 'https://accounts.spotify.com/authorize')
  t.equal(authorize.searchParams.get('client_id'), 'abc123')
  t.equal(authorize.searchParams.get('redirect_uri'), 'http://127.0.0.1:5543/callback')
})

t.test('SPOTIFY_ACCOUNTS_URL and SPOTIFY_API_URL: a whole login against another Spotify', async (t) => {
  const redirectUri = 'http://127.0.0.1:5543/callback'
  const spotify = await createSpotifyEmulator({
    autoApprove: 'carol',
    clients: [{ clientId: 'democlient1', clientSecret: 'demosecret1', redirectUris: [redirectUri] }]
  })
  t.teardown(() => spotify.close())
  const demo = await startDemo(t, {
    SPOTIFY_CLIENT_ID: 'democlient1',
    SPOTIFY_CLIENT_SECRET: 'demosecret1',
    SPOTIFY_ACCOUNTS_URL: spotify.url,
    SPOTIFY_API_URL: spotify.url
  })
  t.equal(demo.emulator, undefined)
  const browser = new Browser(demo.app)
  t.equal((await browser.login()).statusCode, 302)
  const page = await browser.request({ url: '/' })
  t.equal(await browser.loggedInAs(), 'Carol Chen')
  t.match(page.headers['content-security-policy'], `img-src 'self' https: ${spotify.url}`)
  t.equal(spotify.control.counters.authorization_code, 1)
})

t.test('the tab icon', async (t) => {
  const { app } = await startDemo(t)
  const icon = await app.inject('/favicon.svg')
  t.equal(icon.statusCode, 200)
  t.equal(icon.headers['content-type'], 'image/svg+xml')
  t.match(icon.body, /^<svg [^>]+>.*#1db954.*<\/svg>$/)
})

t.test('close() stops the emulator too', async (t) => {
  const demo = await startDemo(t)
  const url = demo.emulator!.url
  t.equal((await fetch(`${url}/v1/me`)).status, 401)
  await demo.close()
  await t.rejects(fetch(`${url}/v1/me`), 'the emulator is closed')
})

t.test('logins are rate-limited per client address', async (t) => {
  const { app } = await startDemo(t)
  const { LOGIN_RATE } = await import('../demo/app.js')
  for (let i = 0; i < LOGIN_RATE; i++) t.equal((await app.inject('/login')).statusCode, 302)
  const limited = await app.inject({ url: '/login', headers: { accept: 'application/json' } })
  t.equal(limited.statusCode, 429)
  t.ok(Number(limited.headers['retry-after']) > 0, 'with Retry-After')
  t.equal((await app.inject({ url: '/login', remoteAddress: '127.0.0.2' })).statusCode, 302, 'another address is not limited')
  t.equal((await app.inject('/callback?state=x')).statusCode, 403, 'the callback has its own budget')
})

t.test('the catalog search works without login, on the app\'s own token', async (t) => {
  const { app, emulator } = await startDemo(t)
  const home = await app.inject({ url: '/', headers: { accept: 'text/html' } })
  t.match(home.body, /<form id="search" method="get" action="\/demo\/search"/, 'the logged-out page has the box')
  const page = await app.inject({ url: '/demo/search?q=a', headers: { accept: 'text/html' } })
  t.equal(page.statusCode, 200)
  t.match(page.body, /<ol id="results"><li><strong>/)
  t.equal(page.headers['set-cookie'], undefined, 'no session involved')
  const json = await app.inject({ url: '/demo/search?q=a', headers: { accept: 'application/json' } })
  t.ok(json.json().tracks.length > 0)
  t.match(json.json().tracks[0], { name: String, artists: Array, album: String })
  t.equal(emulator!.control.counters.client_credentials, 1, 'one app token for both searches')
  t.equal(emulator!.control.apiCallsByEndpoint['GET /v1/search'], 1, 'the second search answered from the app\'s cache (catalog answers are public for two hours)')
  const none = await app.inject({ url: '/demo/search?q=zzzzzzzzzz', headers: { accept: 'text/html' } })
  t.match(none.body, /id="no-results"/)
  t.equal((await app.inject({ url: '/demo/search?q=', headers: { accept: 'application/json' } })).statusCode, 400)
  emulator!.control.failApiCalls(3, 500)
  t.equal((await app.inject({ url: '/demo/search?q=b', headers: { accept: 'application/json' } })).statusCode, 502, 'Spotify failing: the demo says so')
})
