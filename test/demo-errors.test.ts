import t from 'tap'
import Fastify from 'fastify'
import got from 'got'
import { apiFailure, demoErrorBody, demoErrorHandler } from '../demo/errors.js'
import { start } from './helpers/emulator-helpers.js'
import type { PageContext } from '../demo/html.js'
import { escapeHtml, renderLoggedIn } from '../demo/html.js'
import { tokenInfo } from '../demo/routes.js'
import { BROWSER_ACCEPT } from './helpers/demo.js'

const context = (): PageContext => ({ nonce: 'n0nce', imageOrigins: [], mode: 'emulator' })

/** A bare app with the demo's error handler and routes that throw what a test needs. */
async function app (t: { teardown (fn: () => unknown): void }) {
  const app = Fastify({ logger: false })
  app.setErrorHandler(demoErrorHandler(context))
  app.get('/internal', async () => { throw new Error('db password is hunter2') })
  app.get('/codeless', async () => { throw Object.assign(new Error('Bad <input>'), { statusCode: 400 }) })
  app.get('/odd-status', async () => { throw Object.assign(new Error('odd'), { statusCode: 302, code: 'ODD' }) })
  app.get('/ours', async () => { throw Object.assign(new Error('Spotify is unavailable: down'), { statusCode: 502, code: 'FST_SPOTIFY_UPSTREAM_ERROR' }) })
  t.teardown(() => app.close())
  return app
}

t.test('a 5xx that is not ours: neither its message nor its code is shown', async (t) => {
  const server = await app(t)
  const json = await server.inject({ url: '/internal', headers: { accept: 'application/json' } })
  t.equal(json.statusCode, 500)
  t.same(json.json(), { error: { status: 500, message: 'Internal Server Error', code: 'FST_SPOTIFY_INTERNAL' } })
  const page = await server.inject({ url: '/internal', headers: { accept: BROWSER_ACCEPT } })
  t.equal(page.statusCode, 500)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /<h1>Something went wrong<\/h1>/)
  t.notMatch(page.body, /hunter2/)
  t.notMatch(page.body, /\n\s+at /)
})

t.test('a 5xx of the plugin keeps its message and gets its explanation', async (t) => {
  const server = await app(t)
  const page = await server.inject({ url: '/ours', headers: { accept: BROWSER_ACCEPT } })
  t.equal(page.statusCode, 502)
  t.match(page.body, /<h1>Spotify is not answering properly<\/h1>/)
  t.match(page.body, /Spotify is unavailable: down/)
})

t.test('a 4xx without a code, and escaping of its message', async (t) => {
  const server = await app(t)
  const json = await server.inject({ url: '/codeless' })
  t.same(json.json(), { error: { status: 400, message: 'Bad <input>', code: 'FST_SPOTIFY_INTERNAL' } })
  const page = await server.inject({ url: '/codeless', headers: { accept: 'text/html' } })
  t.match(page.body, /Bad &lt;input&gt;/)
  t.notMatch(page.body, /Bad <input>/)
})

t.test('a status outside 4xx/5xx counts as 500', async (t) => {
  t.same(demoErrorBody(Object.assign(new Error('odd'), { statusCode: 302, code: 'ODD' }) as never),
    { status: 500, message: 'Internal Server Error', code: 'FST_SPOTIFY_INTERNAL' })
  t.same(demoErrorBody(Object.assign(new Error('odd'), { statusCode: 600, code: 'ODD' }) as never).status, 500)
  const server = await app(t)
  t.equal((await server.inject('/odd-status')).statusCode, 500)
})

t.test('escapeHtml escapes the five characters, and anything becomes text', async (t) => {
  t.equal(escapeHtml('<a href="x" title=\'y\'>&</a>'), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;')
  t.equal(escapeHtml(42), '42')
})

t.test('tokenInfo: seconds left (never negative), last refresh only after one', async (t) => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0)
  const token = { userId: 'alice', accessToken: 'A', refreshToken: 'R', scope: ['s'], expiresAt: now / 1000 + 90, obtainedAt: now / 1000 - 30, refreshes: 0, authorizedAt: now / 1000 - 30, refreshTokenExpiresAt: now / 1000 + 180 * 86_400 }
  t.same(tokenInfo(token, 60_000, now - 500), {
    scopes: ['s'], expiresIn: 90, expiresAt: '2025-01-01T12:01:30.000Z', refreshes: 0, lastRefreshAt: null, refreshMargin: 60
  })
  t.equal(tokenInfo({ ...token, refreshes: 3 }, 60_000, now).lastRefreshAt, '2025-01-01T11:59:30.000Z')
  t.equal(tokenInfo(token, 60_000, now + 100_000).expiresIn, 0)
})

t.test('the logged-in page: scopes escaped, the countdown, and who is logged in left to the script', async (t) => {
  const html = renderLoggedIn(context(), {
    scopes: ['scope<1>'], expiresIn: 61, expiresAt: '2025-01-01T12:01:01.000Z', refreshes: 0, lastRefreshAt: null, refreshMargin: 60
  }, 1_800_000_000)
  t.match(html, /<ul class="chips" id="scopes"><li>scope&lt;1&gt;<\/li><\/ul>/)
  t.match(html, /<span id="expires-in">1:01<\/span>/)
  t.match(html, /<h1 id="display-name">…<\/h1>/, 'filled in from GET /session')
  t.match(html, /<noscript><p class="note">Without JavaScript: <a href="\/session">/)
})

t.test('a 403 for a missing scope gets its own hint', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('alice', []).access_token
  const failure = await got(`${emulator.url}/v1/me/top/artists`, { headers: { authorization: `Bearer ${token}` }, retry: { limit: 0 } }).json().catch((err: unknown) => err)
  t.match((apiFailure(failure) as Error).message, /HTTP 403: the session lacks a scope this request needs/)
  const buffered = await got(`${emulator.url}/v1/me/top/artists`, { headers: { authorization: `Bearer ${token}` }, retry: { limit: 0 }, responseType: 'buffer' }).catch((err: unknown) => err)
  t.match((apiFailure(buffered) as Error).message, /lacks a scope/, 'whatever the body type')
  const other = new Error('not from got')
  t.equal(apiFailure(other), other)
})
