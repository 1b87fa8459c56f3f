import t from 'tap'
import { pgStore } from '../plugin/index.js'
import { build, CLIENT_SECRET, SECRET } from './helpers/build.js'
import { watchedLogin, watchedTokens } from './helpers/watched-login.js'
import { eventually } from './helpers/eventually.js'
import { newPool, pgRelay, postgresOrSkip, terminateBackends } from './helpers/postgres.js'

t.test('a whole session on PostgreSQL, outages included, logs no token, session id, cookie or secret', async (t) => {
  const db = await postgresOrSkip(t)
  if (db === undefined) return
  const relay = await pgRelay(t)
  const pool = newPool(t, { connectionString: relay.url })
  const table = db.table()
  const secrets = new Set<string>([CLIENT_SECRET, SECRET])
  const built = await build(t, {
    emulator: { accessTokenTtl: 30, rotateRefreshTokens: true },
    // The store's and the plugin's own timeouts (2 s and 5 s): a short one
    // would fail the login and refreshes on a busy machine, not only the
    // stalled queries this test makes.
    plugin: { refreshCooldown: 0, store: pgStore({ pool, table }) },
    before (app) {
      app.get('/token', async (request) => await request.spotify.getToken())
    }
  })
  const { request, logs } = built

  const { jar, status } = await watchedLogin(built, secrets)
  t.equal(status, 302)

  // Refreshes with rotation (ttl 30 s < margin), each token watched.
  await watchedTokens(built, jar, secrets, 3)
  // PostgreSQL hung, then its connections terminated, then down: 503s, logged.
  relay.freeze()
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 503)
  relay.thaw()
  t.equal((await request(jar, { url: '/token' })).statusCode, 200)
  await terminateBackends(db.pool, pool.applicationName)
  await relay.stop()
  t.equal((await request(jar, { url: '/token' })).statusCode, 503)
  await relay.start()
  // Back by itself, once the pool has dropped the connections that died.
  let recovered: { statusCode: number, json (): { accessToken: string, refreshToken: string } } | undefined
  await eventually('recovery', async () => (recovered = await request(jar, { url: '/token' })).statusCode === 200, { within: 5000 })
  const token = recovered?.json() as { accessToken: string, refreshToken: string }
  secrets.add(token.accessToken)
  secrets.add(token.refreshToken)
  t.equal((await request(jar, { method: 'POST', url: '/logout' })).statusCode, 303)

  const text = logs.join('')
  const outages = logs.filter((line) => line.includes('FST_SPOTIFY_STORE_UNAVAILABLE'))
  t.ok(outages.length >= 2, `${outages.length} log lines about the store outages`)
  for (const line of outages) t.notMatch(line, /\\n\s+at /, 'no stack trace')
  t.ok(secrets.size > 10, `watched ${secrets.size} secrets`)
  for (const secret of secrets) {
    t.ok(secret.length >= 16, 'a real secret, not a short string that could match by chance')
    t.notOk(text.includes(secret), `log does not contain ${secret.slice(0, 6)}…`)
  }
})
