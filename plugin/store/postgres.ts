import { leaseMs, leaseToken, refreshTokenLapsesAt } from './kit/lifetime.js'
import { optionChecks, optionRule, optionRules } from './kit/options.js'
import { sealedRecords, type SealedRecords } from './kit/records.js'
import { within } from './kit/within.js'
import { storeKind } from '../diagnostics/store.js'
import type { SpotifyToken, StoreContext, StoreFactory, TokenStore } from './types.js'

/**
 * The part of a node-postgres pool the store uses: `new Pool(…)` from `pg`
 * fits (so does a `pg.Client`, without the pool's reconnects).
 */
export interface PgPool {
  /** Runs one statement with its parameters; `query_timeout` bounds the wait for its answer. */
  query (config: { text: string, values?: unknown[], query_timeout?: number }): Promise<PgResult>
}

/** What the store reads of a node-postgres result. */
export interface PgResult {
  /** The rows, as objects keyed by column name. */
  rows: unknown[]
  /** How many rows the statement touched. */
  rowCount: number | null
}

/** `pgStore`'s options. */
export interface PgStoreOptions {
  /**
   * A node-postgres pool. The store never ends it: it is yours. Give it a
   * `connectionTimeoutMillis` (say 2000) and an `error` listener: an idle
   * connection that PostgreSQL drops emits `error` on the pool, which
   * crashes a process that does not listen.
   */
  pool: PgPool
  /**
   * The sessions table, optionally schema-qualified (`auth.spotify_sessions`):
   * lower-case letters, digits and `_`. Its refresh locks live beside it in
   * `<table>_locks`. Default `spotify_auth_sessions`.
   */
  table?: string
  /** Create both tables (`CREATE TABLE IF NOT EXISTS`) at register time. Default true. */
  createTable?: boolean
  /**
   * How long a session lives after its last write (login or refresh), in ms.
   * Default: until Spotify stops accepting its refresh token
   * (`refreshTokenExpiresAt`).
   */
  ttl?: number
  /**
   * Longest wait for one query, in ms, waiting for a pooled connection
   * included, before the request gets 503. Default 2000.
   */
  queryTimeout?: number
}

/** At most one sweep of lapsed rows per store and interval: cheap, and no timer. */
const SWEEP_INTERVAL = 10 * 60 * 1000
/** Rows one sweep deletes at most, so that a sweep stays a short statement. */
const SWEEP_LIMIT = 1000
const DEFAULT_TABLE = 'spotify_auth_sessions'
/** Unquoted lower-case identifiers, short enough for `<table>_locks` and `<table>_expires_at` (63 bytes). */
const TABLE = /^(?:[a-z_][a-z0-9_]{0,47}\.)?[a-z_][a-z0-9_]{0,47}$/
const PG_POOL = optionRule((value): value is PgPool => typeof (value as Partial<PgPool> | null)?.query === 'function', 'must be a pg Pool')
const TABLE_NAME = optionRule((value): value is string => typeof value === 'string' && TABLE.test(value),
  'must be a table name such as spotify_auth_sessions or auth.spotify_sessions (lower-case letters, digits and _, at most 48 each)')

/**
 * The schema, for `createTable: false` (create it yourself, once) and for
 * review. `name` is an HMAC of the session id, `data` the token sealed with
 * AES-256-GCM (its key id, IV, tag and ciphertext), bound to `name` and
 * `version`: a dump holds no usable token or cookie, and a row moved or
 * re-versioned reads as no session. `user_name` (an HMAC of the Spotify user
 * id), `member` (the session id, sealed) and `written_at` (the last login or
 * refresh) are the per-user index; `reauth_by` is when the refresh token
 * ends (`sessionsExpiringBefore`; a table made by an earlier version gets
 * it added, empty for its sessions until their next login). Expiry compares with the database's
 * `now()`, so that the instances' clocks do not matter.
 */
export function pgSchema (table: string): string {
  const t = tableNames(table)
  return `CREATE TABLE IF NOT EXISTS ${t.sessions} (
  name text PRIMARY KEY,
  version bigint NOT NULL,
  data text NOT NULL,
  expires_at timestamptz NOT NULL,
  user_name text NOT NULL,
  member text NOT NULL,
  written_at timestamptz NOT NULL,
  reauth_by timestamptz
);
ALTER TABLE ${t.sessions} ADD COLUMN IF NOT EXISTS reauth_by timestamptz;
CREATE INDEX IF NOT EXISTS ${t.index} ON ${t.sessions} (expires_at);
CREATE INDEX IF NOT EXISTS ${t.reauthIndex} ON ${t.sessions} (reauth_by);
CREATE INDEX IF NOT EXISTS ${t.userIndex} ON ${t.sessions} (user_name, written_at);
CREATE TABLE IF NOT EXISTS ${t.locks} (
  name text PRIMARY KEY,
  token text NOT NULL,
  expires_at timestamptz NOT NULL
);`
}

interface TableNames {
  readonly plain: string
  readonly sessions: string
  readonly locks: string
  readonly index: string
  readonly userIndex: string
  readonly reauthIndex: string
}

function tableNames (table: string): TableNames {
  const dot = table.indexOf('.')
  const schema = dot === -1 ? '' : `"${table.slice(0, dot)}".`
  const base = table.slice(dot + 1)
  // Quoted, so that a valid name that is also a keyword (`user`) still works.
  return { plain: table, sessions: `${schema}"${base}"`, locks: `${schema}"${base}_locks"`, index: `"${base}_expires_at"`, userIndex: `"${base}_user"`, reauthIndex: `"${base}_reauth_by"` }
}

/** An error PostgreSQL itself sent (it has a severity): the server was reached. */
function fromServer (error: unknown): boolean {
  return typeof (error as { severity?: unknown } | null)?.severity === 'string'
}

/**
 * A token store in PostgreSQL, shared by every instance of an app. Records
 * are sealed exactly as the Redis store seals them (AES-256-GCM, named by an
 * HMAC of the session id, keys from the plugin's `secret`, rotation
 * included); writes are compare-and-set on the version; `lock` is a lease
 * row that lapses by itself, so one refresh per session runs across the
 * cluster. Lapsed rows are ignored by reads and swept now and then by writes.
 *
 * Returns a store factory: pass it as the plugin's `store`, which builds it
 * with the plugin's secret at register time (creating the tables unless
 * `createTable: false`, and failing `register` when PostgreSQL cannot be
 * reached). On its own: `await pgStore({ pool })({ secrets, clientId })`.
 */
export function pgStore (options: PgStoreOptions): StoreFactory {
  const option = optionChecks('pgStore')
  const pool = option.required('pool', options.pool, PG_POOL)
  const table = option.withDefault('table', options.table, TABLE_NAME, DEFAULT_TABLE)
  const createTable = option.withDefault('createTable', options.createTable, optionRules.boolean, true)
  const ttl = option.optional('ttl', options.ttl, optionRules.positiveIntegerMs)
  const queryTimeout = option.withDefault('queryTimeout', options.queryTimeout, optionRules.positiveIntegerMs, 2000)
  const names = tableNames(table)
  return async (context: StoreContext) => {
    const query = querier(pool, queryTimeout)
    try {
      if (createTable) {
        // One implicit transaction; the advisory lock ends with it. It keeps
        // instances that start together from racing in CREATE TABLE, which
        // IF NOT EXISTS alone does not prevent.
        await query(`SELECT pg_advisory_xact_lock(hashtext('fastify-spotify-auth ${names.plain}'));\n${pgSchema(table)}`)
      } else {
        await query(`SELECT reauth_by FROM ${names.sessions}, ${names.locks} LIMIT 0`)
      }
    } catch (cause) {
      const message = (cause as Error).message
      if (!fromServer(cause)) throw new Error(`fastify-spotify-auth: the PostgreSQL store cannot reach PostgreSQL (${message})`, { cause })
      throw new Error(createTable
        ? `fastify-spotify-auth: the PostgreSQL store cannot create its tables ${names.plain} and ${names.plain}_locks (${message})`
        : `fastify-spotify-auth: the PostgreSQL store cannot use its tables ${names.plain} and ${names.plain}_locks (${message}): create them, or leave createTable on`,
      { cause })
    }
    return storeKind('postgres', createPgStore({ query, tables: names, ttl, queryTimeout, records: sealedRecords(context.secrets) }))
  }
}

type Query = (text: string, values?: unknown[]) => Promise<{ rows: unknown[], rowCount: number | null }>

function querier (pool: PgPool, queryTimeout: number): Query {
  // query_timeout makes pg drop a connection whose answer is late (the pool
  // then discards it); `within` also bounds the wait for a free connection.
  return (text, values) => within('PostgreSQL', queryTimeout, () => pool.query({ text, values, query_timeout: queryTimeout }))
}

interface Row { name: string, version: string, data: string }

/**
 * A row's expires_at from parameters `$n` (an absolute time, Unix ms) and
 * `$n+1` (a ttl in ms, counted on the database's clock): whichever is set.
 */
function expirySql (n: number): string {
  return `COALESCE(to_timestamp($${n}::float8 / 1000), now() + $${n + 1}::float8 * interval '1 millisecond')`
}

/** What the PostgreSQL store is made of, once its options are checked and its tables exist. */
interface PgStoreParts {
  readonly query: Query
  readonly tables: TableNames
  /** The `ttl` option: records then live that long after their last write, on the database's clock. */
  readonly ttl: number | undefined
  readonly queryTimeout: number
  readonly records: SealedRecords
}

/** The session ids of index rows; a member that does not open (tampered with) is no session. */
function membersOf (records: SealedRecords, rows: unknown[]): string[] {
  return (rows as Array<{ user_name: string, member: string }>)
    .map((row) => records.sessionOf(row.member, row.user_name))
    .filter((sessionId): sessionId is string => sessionId !== undefined)
}

function createPgStore ({ query, tables: t, ttl, queryTimeout, records }: PgStoreParts): TokenStore {
  // Every statement takes the record's candidate names, newest key first: a
  // record sealed before a `secret` rotation is still found under its old
  // name and moves to the new one on its next write.
  const sql = {
    /** Two names at once only during a rolling rotation: the newest key wins. */
    get: `SELECT name, version::text AS version, data FROM ${t.sessions} WHERE name = ANY($1::text[]) AND expires_at > now()
ORDER BY array_position($1::text[], name) LIMIT 1`,
    /** Creates or overwrites the record under the newest name. */
    set: `WITH old AS (DELETE FROM ${t.sessions} WHERE name = ANY($2::text[]))
INSERT INTO ${t.sessions} (name, version, data, expires_at, user_name, member, written_at, reauth_by)
VALUES ($1, $3, $4, ${expirySql(5)}, $7, $8, clock_timestamp(), to_timestamp($9::float8))
ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data, expires_at = EXCLUDED.expires_at,
  user_name = EXCLUDED.user_name, member = EXCLUDED.member, written_at = EXCLUDED.written_at, reauth_by = EXCLUDED.reauth_by`,
    /**
     * Compare-and-set on the version (the fencing token): the live record is
     * locked, and written (under the newest name) only while still at the
     * expected version, so that neither a slower sibling nor a refresh that
     * outlived a logout can overwrite. A writer that waited for the row lock
     * sees the winner's version, or no row after a delete.
     */
    update: `WITH current AS (
  SELECT version, user_name, member, reauth_by FROM ${t.sessions} WHERE name = ANY($1::text[]) AND expires_at > now()
  ORDER BY array_position($1::text[], name) LIMIT 1 FOR UPDATE
), old AS (
  DELETE FROM ${t.sessions} WHERE name = ANY($1::text[]) AND name <> $2 AND EXISTS (SELECT 1 FROM current WHERE version = $3)
)
INSERT INTO ${t.sessions} (name, version, data, expires_at, user_name, member, written_at, reauth_by)
SELECT $2, $4, $5, ${expirySql(6)}, user_name, member, clock_timestamp(), reauth_by FROM current WHERE version = $3
ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data, expires_at = EXCLUDED.expires_at,
  written_at = EXCLUDED.written_at`,
    /** Live sessions whose refresh token ends before $1 (Unix s), soonest first. */
    expiring: `SELECT user_name, member FROM ${t.sessions} WHERE reauth_by < to_timestamp($1::float8) AND expires_at > now()
ORDER BY reauth_by, name`,
    /** A user's live sessions, least recently written first (every index name the user may have). */
    sessionsOf: `SELECT user_name, member FROM ${t.sessions} WHERE user_name = ANY($1::text[]) AND expires_at > now()
ORDER BY written_at, name`,
    delete: `DELETE FROM ${t.sessions} WHERE name = ANY($1::text[])`,
    // The version is checked on the row itself, so that a delete that waited
    // for a concurrent update's row lock re-checks it against the new version.
    deleteIf: `DELETE FROM ${t.sessions} WHERE name = ANY($1::text[]) AND version = $2`,
    /** Takes the lease when it is free or lapsed; a live one is left alone. */
    lock: `INSERT INTO ${t.locks} AS l (name, token, expires_at) VALUES ($1, $2, now() + $3::float8 * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at WHERE l.expires_at <= now()`,
    /** Only the holder's token releases: the lease may have lapsed and been taken again. */
    unlock: `DELETE FROM ${t.locks} WHERE name = $1 AND token = $2`,
    // The expiry is checked on the rows themselves too: a row renewed while
    // the sweep waited for it is kept.
    sweep: `WITH lapsed AS (
  DELETE FROM ${t.sessions} WHERE expires_at <= now() AND name IN (SELECT name FROM ${t.sessions} WHERE expires_at <= now() LIMIT ${SWEEP_LIMIT})
)
DELETE FROM ${t.locks} WHERE expires_at <= now() AND name IN (SELECT name FROM ${t.locks} WHERE expires_at <= now() LIMIT ${SWEEP_LIMIT})`
  }
  let nextSweep = 0

  /**
   * The two parameters of {@link expirySql}: the refresh token's horizon (Unix
   * ms) by default, or `ttl` from the database's `now()`.
   */
  function expiryOf (token: SpotifyToken): [number | null, number | null] {
    return ttl === undefined ? [refreshTokenLapsesAt(token), null] : [null, ttl]
  }

  /** After a write, now and then: lapsed rows go without a timer that would keep the process alive. */
  function sweepIfDue (): void {
    const now = Date.now()
    if (now < nextSweep) return
    nextSweep = now + SWEEP_INTERVAL
    // Nobody waits for it, and a failure only delays it to the next interval.
    query(sql.sweep).catch(() => {})
  }

  return {
    async ping () {
      await query('SELECT 1')
    },
    async get (sessionId) {
      const { rows } = await query(sql.get, [records.names(sessionId)])
      const row = rows[0] as Row | undefined
      if (row === undefined) return undefined
      // A record that does not open (tampered with, moved to another
      // session's name, or re-versioned) counts as no session.
      return records.open(row.data, row.name, row.version)
    },
    async set (sessionId, token) {
      const [name, ...old] = records.names(sessionId) as [string, ...string[]]
      const userName = records.userNames(token.userId)[0] as string
      await query(sql.set, [name, old, token.refreshes, records.seal(token, name), ...expiryOf(token), userName, records.member(sessionId, userName), token.refreshTokenExpiresAt])
      sweepIfDue()
    },
    async sessionsOf (userId) {
      const { rows } = await query(sql.sessionsOf, [records.userNames(userId)])
      return membersOf(records, rows)
    },
    async sessionsExpiringBefore (time) {
      const { rows } = await query(sql.expiring, [time])
      return membersOf(records, rows)
    },
    async update (sessionId, previous, next) {
      const candidates = records.names(sessionId)
      const name = candidates[0] as string
      const { rowCount } = await query(sql.update, [candidates, name, previous.refreshes, next.refreshes, records.seal(next, name), ...expiryOf(next)])
      sweepIfDue()
      return rowCount === 1
    },
    async delete (sessionId, expected) {
      const candidates = records.names(sessionId)
      await (expected === undefined ? query(sql.delete, [candidates]) : query(sql.deleteIf, [candidates, expected.refreshes]))
    },
    async lock (sessionId, ttlMs) {
      const name = records.names(sessionId)[0] as string
      const token = leaseToken()
      const { rowCount } = await query(sql.lock, [name, token, leaseMs(ttlMs, queryTimeout)])
      if (rowCount !== 1) return undefined
      return async () => {
        await query(sql.unlock, [name, token])
      }
    }
  }
}
