import t from 'tap'
import { build, CLIENT_SECRET, CookieJar, SECRET } from './helpers/build.js'
import { watchedLogin, watchedTokens } from './helpers/watched-login.js'

t.test('a whole session logged at trace level contains no token, code, state, cookie or secret', async (t) => {
  const secrets = new Set<string>([CLIENT_SECRET, SECRET])
  const built = await build(t, {
    emulator: { accessTokenTtl: 30, rotateRefreshTokens: true },
    plugin: { timeout: 300, refreshCooldown: 0 },
    before (app) {
      app.get('/token', async (request) => await request.spotify.getToken())
      // A Spotify 404 through request.spotify.api, left to Fastify's default
      // error handler, which logs the error object got made.
      app.get('/mine', async (request) => await request.spotify.api.get('missing').json())
    }
  })
  const { emulator, request, logs } = built

  // The login, watching every secret that crosses it.
  const { jar, status, callback } = await watchedLogin(built, secrets, '/login?returnTo=/after')
  t.equal(status, 302)

  // Refreshes (ttl 30 s < margin), a 401 retry, an upstream error, a timeout.
  await watchedTokens(built, jar, secrets, 3)
  emulator.control.unauthorizeApiCalls(1)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200)
  t.equal((await request(jar, { url: '/mine' })).statusCode, 500, 'the app\'s own error, logged by Fastify')
  emulator.control.failTokenCalls(1, 500)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 502)
  emulator.control.hangApiCalls(1)
  emulator.control.setAccessTokenTtl(3600)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 504)
  for (const seen of emulator.control.apiRequests) secrets.add(String(seen.headers.authorization).replace('Bearer ', ''))
  const token = (await request(jar, { url: '/token' })).json()
  secrets.add(token.accessToken)
  secrets.add(token.refreshToken)

  // A replayed callback and a bad state: error paths log too.
  await request(new CookieJar(), { url: callback })
  t.equal((await request(jar, { method: 'POST', url: '/logout' })).statusCode, 303)

  const text = logs.join('')
  // The plugin's lines: its codes, or its messages (a match anywhere in the line
  // would also take the app's own error whose stack names a folder called so).
  const ours = logs.filter((line) => line.includes('FST_SPOTIFY') || line.includes('"msg":"fastify-spotify-auth:'))
  t.ok(ours.length >= 3, `${ours.length} log lines about the plugin's errors`)
  for (const line of ours) t.notMatch(line, /\\n\s+at /, 'no stack trace in the plugin\'s log lines')
  t.ok(text.includes('incoming request'), 'request logging is on')
  t.ok(text.includes('/callback?[redacted]'), 'the callback URL is logged without its query')
  t.ok(secrets.size > 12, `watched ${secrets.size} secrets`)
  for (const secret of secrets) {
    t.ok(secret.length >= 16, 'a real secret, not a short string that could match by chance')
    t.notOk(text.includes(secret), `log does not contain ${secret.slice(0, 6)}…`)
  }
})
