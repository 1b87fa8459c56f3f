import Fastify from 'fastify'
import t from 'tap'
import spotifyAuth, { pgStore, type PgStoreOptions, type TokenStore } from '../plugin/index.js'
import { pgSchema } from '../plugin/store/postgres.js'
import { sampleSessionId, sampleToken, testTokenStore } from '../plugin/testing/index.js'
import { CLIENT_ID, SECRET } from './helpers/build.js'
import { freePort } from './helpers/ports.js'
import { eventually } from './helpers/eventually.js'
import { newPool, pgRelay, postgresOrSkip, type TestDatabase } from './helpers/postgres.js'
import { invalid } from './helpers/stores.js'

const OLD_SECRET = 'an-older-session-secret-of-32-chars!!'
/**
 * A lock's lease is its ttl plus twice the query timeout: the contract's
 * lock-expiry tests run on a store with this one, so that they wait about
 * 600 ms for a lapse. Only they do: every other case keeps the default.
 */
const SHORT_QUERY_TIMEOUT = 250

/** A PostgreSQL store built as the plugin builds it, with `secrets` as the plugin's `secret`. */
function openStore (options: PgStoreOptions, secrets: string[] = [SECRET]): Promise<TokenStore> {
  return Promise.resolve(pgStore(options)({ secrets, clientId: CLIENT_ID }))
}

interface RawRow { name: string, version: string, data: string, expires_at: Date }

async function rowsOf (db: TestDatabase, table: string): Promise<RawRow[]> {
  return (await db.pool.query<RawRow>(`SELECT name, version::text AS version, data, expires_at FROM ${table} ORDER BY name`)).rows
}

const plugin = { clientId: 'id', clientSecret: 's', redirectUri: 'http://127.0.0.1:5543/callback', secret: SECRET }

t.test('pgStore', async (t) => {
  const db = await postgresOrSkip(t)
  if (db === undefined) return
  const pool = db.pool

  await t.test('passes the TokenStore contract, lock included', async (t) => {
    const table = db.table()
    await testTokenStore(t, () => openStore({ pool, table }), {
      lock: true, users: true, expiring: true, lockExpiry: () => openStore({ pool, table, queryTimeout: SHORT_QUERY_TIMEOUT }), rotation: (secrets) => openStore({ pool, table }, [...secrets])
    })
  })

  await t.test('passes the contract with two secrets (after a rotation)', async (t) => {
    const table = db.table()
    await testTokenStore(t, () => openStore({ pool, table }, [SECRET, OLD_SECRET]), {
      lock: true, users: true, expiring: true, lockExpiry: () => openStore({ pool, table, queryTimeout: SHORT_QUERY_TIMEOUT }, [SECRET, OLD_SECRET])
    })
  })

  await t.test('creates its tables as documented, once, even when instances start together', async (t) => {
    const table = db.table()
    await Promise.all(Array.from({ length: 4 }, () => openStore({ pool, table })))
    const { rows } = await pool.query<{ table_name: string, column_name: string, data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = $1 AND table_name LIKE $2 ORDER BY table_name, ordinal_position`,
      [db.schema, `${table.split('.')[1] as string}%`])
    t.same(rows.map((r) => `${r.table_name}.${r.column_name} ${r.data_type}`), [
      `${table.split('.')[1] as string}.name text`,
      `${table.split('.')[1] as string}.version bigint`,
      `${table.split('.')[1] as string}.data text`,
      `${table.split('.')[1] as string}.expires_at timestamp with time zone`,
      `${table.split('.')[1] as string}.user_name text`,
      `${table.split('.')[1] as string}.member text`,
      `${table.split('.')[1] as string}.written_at timestamp with time zone`,
      `${table.split('.')[1] as string}.reauth_by timestamp with time zone`,
      `${table.split('.')[1] as string}_locks.name text`,
      `${table.split('.')[1] as string}_locks.token text`,
      `${table.split('.')[1] as string}_locks.expires_at timestamp with time zone`
    ])
    t.equal(pgSchema('spotify_auth_sessions'), `CREATE TABLE IF NOT EXISTS "spotify_auth_sessions" (
  name text PRIMARY KEY,
  version bigint NOT NULL,
  data text NOT NULL,
  expires_at timestamptz NOT NULL,
  user_name text NOT NULL,
  member text NOT NULL,
  written_at timestamptz NOT NULL,
  reauth_by timestamptz
);
ALTER TABLE "spotify_auth_sessions" ADD COLUMN IF NOT EXISTS reauth_by timestamptz;
CREATE INDEX IF NOT EXISTS "spotify_auth_sessions_expires_at" ON "spotify_auth_sessions" (expires_at);
CREATE INDEX IF NOT EXISTS "spotify_auth_sessions_reauth_by" ON "spotify_auth_sessions" (reauth_by);
CREATE INDEX IF NOT EXISTS "spotify_auth_sessions_user" ON "spotify_auth_sessions" (user_name, written_at);
CREATE TABLE IF NOT EXISTS "spotify_auth_sessions_locks" (
  name text PRIMARY KEY,
  token text NOT NULL,
  expires_at timestamptz NOT NULL
);`, 'the SQL the README prints')
  })

  await t.test('a tampered index entry is no session of the user', async (t) => {
    const table = db.table()
    const store = await openStore({ pool, table })
    const [kept, tampered] = [sampleSessionId(), sampleSessionId()]
    await store.set(kept, { ...sampleToken(1), userId: 'dora' })
    await store.set(tampered, { ...sampleToken(2), userId: 'dora' })
    await pool.query(`UPDATE ${table} SET member = 'x' || member WHERE version = 0 AND name = (SELECT name FROM ${table} ORDER BY written_at DESC LIMIT 1)`)
    t.same(await store.sessionsOf?.('dora'), [kept])
  })

  await t.test('the raw row holds no token bytes and no session id; the name is an HMAC', async (t) => {
    const table = db.table()
    const store = await openStore({ pool, table })
    const id = sampleSessionId()
    const token = sampleToken(7)
    await store.set(id, token)
    const release = await store.lock?.(id, 1000)
    const rows = await rowsOf(db, table)
    t.equal(rows.length, 1)
    const locks = (await pool.query(`SELECT * FROM ${table}_locks`)).rows
    t.equal(locks.length, 1)
    const raw = JSON.stringify([rows, locks])
    t.match(rows[0]?.name, /^[A-Za-z0-9_-]{43}$/, 'a 256-bit HMAC, base64url')
    for (const secret of [token.accessToken, token.refreshToken, id, 'BQ-access', 'AQ-refresh', 'user-read-private', SECRET]) {
      t.notOk(raw.includes(secret), `the rows do not contain ${secret}`)
    }
    t.equal((rows[0] as RawRow).expires_at.getTime(), token.refreshTokenExpiresAt * 1000,
      'kept until Spotify stops accepting the refresh token, not until the access token expires')
    await release?.()
  })

  await t.test('a row tampered with, re-versioned, moved or sealed by an unknown key reads as no session', async (t) => {
    const table = db.table()
    const store = await openStore({ pool, table })
    const a = sampleSessionId()
    const b = sampleSessionId()
    await store.set(a, sampleToken(1, 3))
    const [rowA] = await rowsOf(db, table) as [RawRow]
    await store.set(b, sampleToken(2, 3))
    const rowB = (await rowsOf(db, table)).find((row) => row.name !== rowA.name) as RawRow
    const put = (name: string, data: string, version = 3): Promise<unknown> =>
      pool.query(`UPDATE ${table} SET data = $2, version = $3 WHERE name = $1`, [name, data, version])

    // One character of the ciphertext flipped.
    const d = rowA.data
    await put(rowA.name, d.slice(0, -2) + (d.at(-2) === 'A' ? 'B' : 'A') + (d.at(-1) as string))
    t.equal(await store.get(a), undefined, 'ciphertext flipped')
    // Re-versioned by someone with write access: the version is sealed in.
    await put(rowA.name, rowA.data, 4)
    t.equal(await store.get(a), undefined, 'version edited')
    t.equal(await store.update(a, sampleToken(1, 4), sampleToken(1, 5)), true, 'the edited version still fences writes')
    t.same(await store.get(a), sampleToken(1, 5), 'and a genuine write over it reads again')
    // b's valid record moved under a's name: bound to its own name.
    await put(rowA.name, rowB.data)
    t.equal(await store.get(a), undefined, 'row moved')
    t.same(await store.get(b), sampleToken(2, 3), 'the original is intact')
    await put(rowA.name, 'zzzzzzzz.' + rowB.data.split('.').slice(1).join('.'))
    t.equal(await store.get(a), undefined, 'unknown key id')
    await put(rowA.name, 'garbage')
    t.equal(await store.get(a), undefined, 'not even a record')
  })

  await t.test('secret rotation: old records stay readable and move to the new name on write', async (t) => {
    const table = db.table()
    const before = await openStore({ pool, table }, [OLD_SECRET])
    const id = sampleSessionId()
    await before.set(id, sampleToken(1, 0))
    const [old] = await rowsOf(db, table) as [RawRow]
    const after = await openStore({ pool, table }, [SECRET, OLD_SECRET])
    t.same(await after.get(id), sampleToken(1, 0), 'found under the old name')
    t.equal(await after.update(id, sampleToken(1, 1), sampleToken(1, 2)), false, 'a stale version does not move it')
    t.equal(await after.update(id, sampleToken(1, 0), sampleToken(1, 1)), true)
    const moved = await rowsOf(db, table)
    t.equal(moved.length, 1)
    t.not(moved[0]?.name, old.name, 'moved to the new name')
    t.same(await after.get(id), sampleToken(1, 1))
    t.equal(await before.get(id), undefined, 'a store without the new secret no longer finds it')

    // A login on an instance not yet rotated, during a rolling deploy: its
    // name coexists with the new one, which wins; set clears the old name.
    await before.set(id, sampleToken(9, 0))
    t.equal((await rowsOf(db, table)).length, 2)
    t.same(await after.get(id), sampleToken(1, 1), 'the newest key wins')
    await after.delete(id, sampleToken(1, 1))
    t.same(await after.get(id), sampleToken(9, 0), 'an expected-version delete leaves other versions')
    await after.set(id, sampleToken(1, 5))
    t.equal((await rowsOf(db, table)).length, 1, 'set leaves one name')
    await before.set(id, sampleToken(9, 0))
    await after.delete(id)
    t.same(await rowsOf(db, table), [], 'delete removes every name')
  })

  await t.test('lapsed rows read as no session, and writes sweep them now and then', async (t) => {
    const table = db.table()
    const store = await openStore({ pool, table })
    const [gone, locked, live] = [sampleSessionId(), sampleSessionId(), sampleSessionId()]
    await store.set(gone, sampleToken(1, 0))
    await store.lock?.(locked, 60_000)
    await pool.query(`UPDATE ${table} SET expires_at = now() - interval '1 second'`)
    await pool.query(`UPDATE ${table}_locks SET expires_at = now() - interval '1 second'`)
    t.equal(await store.get(gone), undefined, 'a lapsed row is no session')
    t.equal(await store.update(gone, sampleToken(1, 0), sampleToken(1, 1)), false, 'and is not renewed by a refresh')

    // A new store (an instance starting) sweeps on its first write.
    const other = await openStore({ pool, table })
    await other.set(live, sampleToken(2, 0))
    await eventually('the sweep', async () => (await rowsOf(db, table)).length === 1, { within: 5000 })
    await eventually('the lock sweep', async () => (await pool.query(`SELECT 1 FROM ${table}_locks`)).rowCount === 0, { within: 5000 })
    t.same(await other.get(live), sampleToken(2, 0), 'the live row stays')

    const short = await openStore({ pool, table, ttl: 60_000 })
    await short.set(live, sampleToken(2, 1))
    const [row] = await rowsOf(db, table) as [RawRow]
    t.ok(Math.abs(row.expires_at.getTime() - Date.now() - 60_000) < 5000, 'ttl sets expires_at, in ms')
  })

  await t.test('a failed sweep does not fail the write it follows', async (t) => {
    const table = db.table()
    let sweeps = 0
    const failing = {
      query (config: { text: string }) {
        if (!config.text.includes('lapsed')) return pool.query(config)
        sweeps++
        return Promise.reject(new Error('sweep refused'))
      }
    }
    const store = await openStore({ pool: failing, table })
    const id = sampleSessionId()
    await store.set(id, sampleToken(1))
    t.equal(sweeps, 1, 'the first write of a store sweeps')
    t.same(await store.get(id), sampleToken(1))
    t.equal(await store.update(id, sampleToken(1), sampleToken(1, 1)), true)
    t.equal(sweeps, 1, 'and the next sweep waits for its interval')
  })

  await t.test('options are validated', async (t) => {
    t.throws(() => pgStore({ pool: {} as never }), invalid(/options\.pool must be a pg Pool/))
    t.throws(() => pgStore({ pool: null as never }), invalid(/options\.pool must be a pg Pool/))
    for (const table of ['', 'a.b.c', 'Sessions', 'x; DROP TABLE y', '"quoted"', '1table', 'a'.repeat(49), 7]) {
      t.throws(() => pgStore({ pool, table: table as string }), invalid(/options\.table must be a table name/), `table ${String(table)}`)
    }
    t.throws(() => pgStore({ pool, createTable: 'no' as never }), invalid(/options\.createTable must be a boolean/))
    t.throws(() => pgStore({ pool, ttl: 0 }), invalid(/options\.ttl must be a positive integer/))
    t.throws(() => pgStore({ pool, ttl: 1.5 }), invalid(/options\.ttl must be a positive integer/))
    t.throws(() => pgStore({ pool, queryTimeout: 0 }), invalid(/options\.queryTimeout must be a positive integer/))
    t.type(pgStore({ pool }), 'function', 'a factory: the plugin builds it with its secret')
  })

  await t.test('names that are keywords work, quoted; the default table is spotify_auth_sessions', async (t) => {
    const store = await openStore({ pool, table: `${db.schema}.user` })
    const id = sampleSessionId()
    await store.set(id, sampleToken(1))
    t.same(await store.get(id), sampleToken(1))
    // The default name, in this run's schema only: search_path set per connection.
    const scoped = newPool(t, { options: `-c search_path=${db.schema}` })
    const plain = await openStore({ pool: scoped })
    await plain.set(id, sampleToken(2))
    t.equal((await pool.query(`SELECT 1 FROM ${db.schema}.spotify_auth_sessions`)).rowCount, 1)
  })

  await t.test('createTable: false uses existing tables and says clearly when they are missing', async (t) => {
    const table = db.table()
    const error = await openStore({ pool, table, createTable: false }).catch((err: Error) => err) as Error
    t.match(error.message, new RegExp(`^fastify-spotify-auth: the PostgreSQL store cannot use its tables ${table} and ${table}_locks \\(relation .* does not exist\\): create them, or leave createTable on$`))
    await pool.query(pgSchema(table))
    const store = await openStore({ pool, table, createTable: false })
    const id = sampleSessionId()
    await store.set(id, sampleToken(1))
    t.same(await store.get(id), sampleToken(1))
  })

  await t.test('a database that refuses to create the tables fails register with the reason', async (t) => {
    const readOnly = newPool(t, { options: '-c default_transaction_read_only=on' })
    const table = db.table()
    const error = await openStore({ pool: readOnly, table }).catch((err: Error) => err) as Error
    t.equal(error.message, `fastify-spotify-auth: the PostgreSQL store cannot create its tables ${table} and ${table}_locks (cannot execute CREATE TABLE in a read-only transaction)`)
  })

  await t.test('the plugin hands its secret to the store and never ends the pool', async (t) => {
    const appPool = newPool(t)
    const table = db.table()
    const app = Fastify()
    await app.register(spotifyAuth, { ...plugin, store: pgStore({ pool: appPool, table }) })
    await app.ready()
    const id = sampleSessionId()
    await app.spotify.store.set(id, sampleToken(2))
    t.same(await (await openStore({ pool, table })).get(id), sampleToken(2), 'sealed with the plugin\'s secret')
    await app.close()
    t.equal((await appPool.query('SELECT 1 AS one')).rows[0].one, 1, 'the pool still works after app.close()')
  })

  await t.test('register with an unreachable PostgreSQL fails with a clear message', async (t) => {
    const port = await freePort()
    const dead = newPool(t, { connectionString: `postgres://postgres@127.0.0.1:${port}/test` })
    const app = Fastify()
    const started = Date.now()
    const error = await app.register(spotifyAuth, { ...plugin, store: pgStore({ pool: dead, table: db.table() }) })
      .ready().then(() => undefined, (err: Error) => err)
    t.match(error?.message, /^fastify-spotify-auth: the PostgreSQL store cannot reach PostgreSQL \(.*ECONNREFUSED/)
    t.ok(Date.now() - started < 2000, 'at once')
    await app.close()
  })

  await t.test('register with a PostgreSQL that does not answer fails within queryTimeout', async (t) => {
    const relay = await pgRelay(t)
    relay.freeze()
    const hung = newPool(t, { connectionString: relay.url })
    const started = Date.now()
    const error = await openStore({ pool: hung, table: db.table(), queryTimeout: 300 }).catch((err: Error) => err) as Error
    t.equal(error.message, 'fastify-spotify-auth: the PostgreSQL store cannot reach PostgreSQL (PostgreSQL did not answer within 300 ms)')
    t.ok(Date.now() - started < 1500, 'bounded by queryTimeout')
    relay.thaw()
  })
})
