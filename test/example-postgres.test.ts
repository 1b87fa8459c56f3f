import t from 'tap'
import { appEnv, emulatorFor, Example, Visitor } from './helpers/examples.js'
import { freePort } from './helpers/ports.js'
import { postgresOrSkip, PG_URL } from './helpers/postgres.js'

t.test('the PostgreSQL deployment: sessions in the database, rate-limited logins, a clean shutdown', async (t) => {
  const db = await postgresOrSkip(t)
  if (db === undefined) return
  const port = await freePort()
  const emulator = await emulatorFor(t, port)
  // The example's tables land in this test's own schema.
  const url = new URL(PG_URL)
  url.searchParams.set('options', `-c search_path=${db.schema}`)
  const app = await Example.start(t, 'postgres.ts', {
    ...appEnv(port, emulator),
    SPOTIFY_REDIRECT_URI: `http://127.0.0.1:${port}/callback`,
    DATABASE_URL: url.href
  })
  const visitor = new Visitor(app.origin)
  const sessions = async (): Promise<number> =>
    Number((await db.pool.query(`SELECT count(*) FROM ${db.schema}.spotify_auth_sessions`)).rows[0].count)

  t.equal((await visitor.fetch('/')).status, 401, '/ is for logged-in users')
  t.equal(await sessions(), 0)
  await visitor.logIn(t)
  t.same(await (await visitor.fetch('/')).json(), { id: 'alice', displayName: 'Alice Andersson' })
  t.equal(await sessions(), 1, 'the session is a row in PostgreSQL')
  t.equal((await visitor.fetch('/logout', { method: 'POST' })).status, 303)
  t.equal(await sessions(), 0, 'logout deletes it')

  // One /login so far: 29 more pass, the 31st within the minute is refused.
  const statuses: number[] = []
  for (let i = 0; i < 30; i++) statuses.push((await fetch(`${app.origin}/login`, { redirect: 'manual' })).status)
  t.same(statuses, [...Array(29).fill(302), 429], '30 logins a minute per client')

  t.equal(await app.stop('SIGTERM'), 0, 'SIGTERM closes the app and the pool, and the process ends by itself')
  t.same(app.stderr, [], 'nothing on stderr')
})
