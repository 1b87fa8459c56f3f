import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Test } from 'tap'
import { tcpRelay, type TcpRelay } from './relay.js'

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

interface Teardown { teardown (fn: () => unknown): void }

/** The test database, seen through a schema that only this test file run uses. */
export interface TestDatabase {
  /** An admin pool, for looking at rows and tampering with them. */
  readonly pool: pg.Pool
  /** `spotify_auth_test_<random>`: created for this run, dropped at teardown. */
  readonly schema: string
  /** A new table name in the schema, schema-qualified, for one test. */
  table (): string
}

/**
 * The test PostgreSQL with a fresh schema, or `undefined` after a loud skip.
 * Under CI a missing PostgreSQL fails the test instead: CI must run these.
 */
export async function postgresOrSkip (t: Test): Promise<TestDatabase | undefined> {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 4, connectionTimeoutMillis: 2000 })
  pool.on('error', () => {})
  try {
    await pool.query('SELECT 1')
  } catch (err) {
    await pool.end()
    const message = `PostgreSQL is not reachable at ${PG_URL} (${(err as Error).message})`
    if (process.env.CI !== undefined) {
      t.fail(`${message}: CI must run the PostgreSQL tests`)
    } else {
      const loud = `!!! SKIPPED: ${message}. Start PostgreSQL on 127.0.0.1:5432 (pg_ctlcluster 15 main start) to run the PostgreSQL store tests.`
      t.comment(loud)
      await t.test(loud, { skip: loud }, () => {})
    }
    return undefined
  }
  const schema = `spotify_auth_test_${randomBytes(6).toString('hex')}`
  await pool.query(`CREATE SCHEMA ${schema}`)
  t.teardown(async () => {
    await pool.query(`DROP SCHEMA ${schema} CASCADE`)
    await pool.end()
  })
  let tables = 0
  return { pool, schema, table: () => `${schema}.sessions_${++tables}` }
}

/**
 * A new pool to `url` (one per simulated instance), ended at teardown. Its
 * connections carry `application_name`, so that a test can terminate them
 * and no others.
 */
export function newPool (t: Teardown, options: pg.PoolConfig = {}): pg.Pool & { readonly applicationName: string } {
  const applicationName = `spotify-auth-test-${randomBytes(6).toString('hex')}`
  const pool = new pg.Pool({ connectionString: PG_URL, max: 5, connectionTimeoutMillis: 2000, application_name: applicationName, ...options })
  // Tests drop connections on purpose: an idle one that dies emits `error`.
  pool.on('error', () => {})
  t.teardown(() => pool.end())
  return Object.assign(pool, { applicationName })
}

/** Terminates every server connection of the pool named `applicationName`; resolves how many. */
export async function terminateBackends (admin: pg.Pool, applicationName: string): Promise<number> {
  // Materialized first: in a plain WHERE, the planner may call
  // pg_terminate_backend before it filters by name.
  const { rows } = await admin.query<{ done: boolean }>(`WITH targets AS MATERIALIZED (
    SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()
  ) SELECT pg_terminate_backend(pid) AS done FROM targets`, [applicationName])
  return rows.filter((row) => row.done).length
}

/**
 * A TCP relay to the test PostgreSQL on 127.0.0.1, to stop, freeze and
 * restart without touching the shared server.
 */
export interface PgRelay extends TcpRelay {
  /** A connection string through the relay. */
  readonly url: string
}

export async function pgRelay (t: Teardown): Promise<PgRelay> {
  const target = new URL(PG_URL)
  const relay = await tcpRelay(t, Number(target.port || 5432))
  return Object.assign(relay, { url: `postgres://postgres@127.0.0.1:${relay.port}${target.pathname}` })
}
