import { randomBytes } from 'node:crypto'
import t from 'tap'
import { buildDemo } from '../demo/app.js'
import { DemoConfigError, loadConfig } from '../demo/config.js'
import { PG_TABLE } from '../demo/store.js'
import { Browser, freePort, SESSION_SECRET, startDemo, testConfig } from './helpers/demo.js'
import { eventually } from './helpers/eventually.js'
import { PG_URL, postgresOrSkip, terminateBackends } from './helpers/postgres.js'

function refusal (env: Record<string, string>): string {
  try {
    loadConfig({ SESSION_SECRET, ...env })
  } catch (err) {
    if (err instanceof DemoConfigError) return err.message
    throw err
  }
  throw new Error('accepted')
}

t.test('DATABASE_URL is read and checked', async (t) => {
  t.equal(loadConfig({ SESSION_SECRET }).databaseUrl, undefined, 'unset: no PostgreSQL')
  t.equal(loadConfig({ SESSION_SECRET, DATABASE_URL: ' postgres://app:pa55word@127.0.0.1:5432/app ' }).databaseUrl,
    'postgres://app:pa55word@127.0.0.1:5432/app', 'trimmed')
  t.equal(loadConfig({ SESSION_SECRET, DATABASE_URL: 'postgresql://127.0.0.1/app?sslmode=disable' }).databaseUrl,
    'postgresql://127.0.0.1/app?sslmode=disable')
  for (const bad of ['mysql://127.0.0.1/app', '127.0.0.1:5432', 'not a url', 'postgres://', 'postgres:///app']) {
    t.equal(refusal({ DATABASE_URL: bad }),
      'DATABASE_URL must be a postgres:// or postgresql:// URL such as postgres://postgres@127.0.0.1:5432/test', bad)
  }
  t.notMatch(refusal({ DATABASE_URL: 'http://user:pa55word@db' }), /pa55word/, 'never echoes the URL, which may hold a password')
  t.equal(refusal({ DATABASE_URL: 'postgres://127.0.0.1/app', REDIS_URL: 'redis://127.0.0.1:6379' }),
    'REDIS_URL and DATABASE_URL are both set: unset one, the demo keeps sessions in one store')
})

t.test('DATABASE_URL: sessions live in PostgreSQL', async (t) => {
  const db = await postgresOrSkip(t)
  if (db === undefined) return
  // The demo's table goes into this run's schema, and its connections carry a name of their own.
  const applicationName = `spotify-auth-test-demo-${randomBytes(4).toString('hex')}`
  const url = new URL(PG_URL)
  url.searchParams.set('options', `-c search_path=${db.schema}`)
  url.searchParams.set('application_name', applicationName)
  const lines: string[] = []
  const demo = await startDemo(t, { DATABASE_URL: url.href, LOG_LEVEL: 'warn' }, {
    emulator: { autoApprove: true },
    logStream: { write: (line) => { lines.push(line) } }
  })
  t.equal(demo.store.description, `in PostgreSQL at ${url.protocol}//${url.host}${url.pathname}`, 'no user, password or options')
  const rows = async (): Promise<number> => (await db.pool.query(`SELECT 1 FROM ${db.schema}.${PG_TABLE}`)).rowCount ?? 0
  const browser = new Browser(demo.app)
  await browser.login()
  t.equal(await rows(), 1, 'one row for the session')
  t.equal(await browser.loggedInAs(), 'Alice Andersson')

  // Connections dropped by the server: logged, and the pool opens new ones.
  // Only an idle connection's loss reaches the pool's error listener, which
  // logs it; the store's sweep of lapsed rows, which the login's write
  // started and nobody awaits, may still hold one (on a busy machine), and
  // its loss goes to that query instead. So the drop waits for it to end.
  await eventually('the demo\'s connections idle', async () => {
    const { rows } = await db.pool.query<{ busy: number }>('SELECT count(*)::int AS busy FROM pg_stat_activity WHERE application_name = $1 AND state <> \'idle\'', [applicationName])
    return rows[0]?.busy === 0
  })
  const terminated = await terminateBackends(db.pool, applicationName)
  t.ok(terminated >= 1)
  // Every dropped connection is reported (and so discarded by the pool) before the next request.
  const warnings = (): number => lines.join('').split('terminating connection due to administrator command').length - 1
  await eventually('a warning for each dropped connection', async () => warnings() >= terminated, { within: 5000 })
  const refreshed = await browser.request({ method: 'POST', url: '/demo/refresh', html: false })
  t.equal(refreshed.json().refreshes, 1, refreshed.body)
  await browser.request({ method: 'POST', url: '/logout', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })
  t.equal(await rows(), 0, 'logout deleted it')
})

t.test('DATABASE_URL without a PostgreSQL there stops start-up with one line', async (t) => {
  const port = await freePort()
  const lines: string[] = []
  const failure = await buildDemo(testConfig({ DATABASE_URL: `postgres://app:pa55word@127.0.0.1:${port}/app`, LOG_LEVEL: 'warn' }), {
    logStream: { write: (line) => { lines.push(line) } }
  }).catch((err: unknown) => err)
  t.type(failure, DemoConfigError)
  t.equal((failure as Error).message,
    `DATABASE_URL: no PostgreSQL answers at postgres://127.0.0.1:${port}/app: start PostgreSQL there, or unset DATABASE_URL to keep sessions in memory`)
  t.match(lines.join(''), /ECONNREFUSED/, 'the reason is logged')
  t.notMatch(lines.join(''), /pa55word/, 'never the password')
})

t.test('DATABASE_URL naming a database that does not exist stops start-up with the reason', async (t) => {
  const db = await postgresOrSkip(t)
  if (db === undefined) return
  const url = new URL(PG_URL)
  url.pathname = `/${db.schema}_missing`
  const failure = await buildDemo(testConfig({ DATABASE_URL: url.href })).catch((err: unknown) => err)
  t.type(failure, DemoConfigError)
  t.equal((failure as Error).message,
    `DATABASE_URL: PostgreSQL at ${url.protocol}//${url.host}${url.pathname} refused the demo (database "${db.schema}_missing" does not exist): check the user, password and database in DATABASE_URL`)
})
