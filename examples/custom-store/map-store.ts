// #region imports
import {
  lapsesAt, leaseMs, leaseToken, optionChecks, optionRule, optionRules, sealedRecords, within,
  type SpotifyToken, type StoreFactory, type TokenStore
} from 'fastify-spotify-auth/store'
// #endregion imports

/** What the database holds for one session, keyed by the record's name. */
interface Row {
  /** The token's `refreshes`, in plaintext: the compare-and-set reads it. */
  readonly version: number
  /** The token, sealed to the row's name and version. */
  readonly data: string
  /** Unix ms; a row past it is no session. */
  readonly lapsesAt: number
  /** The per-user index: the user's index name, and the session id sealed to it. */
  readonly userName: string
  readonly member: string
  /** The database's write sequence, for `sessionsOf` (a real one would use a timestamp). */
  readonly written: number
}

/** The "database": two tables and a sequence, standing in for your client. */
export class MapDatabase {
  readonly sessions = new Map<string, Row>()
  readonly locks = new Map<string, { token: string, until: number }>()
  #sequence = 0
  next (): number { return ++this.#sequence }
}

export interface MapStoreOptions {
  /** The database; the store never closes it. */
  database: MapDatabase
  /** How long a session lives after its last write, in ms. Default: until its refresh token expires. */
  ttl?: number
  /** Longest wait for one database call, in ms. Default 2000. */
  timeout?: number
}

const DATABASE = optionRule((value): value is MapDatabase => value instanceof MapDatabase, 'must be a MapDatabase')

/**
 * A token store over a {@link MapDatabase}: what a real backend does, the
 * kit doing the shared parts. A factory, so that the plugin hands it its
 * secrets at register time.
 */
// #region options
export function mapStore (options: MapStoreOptions): StoreFactory {
  const option = optionChecks('mapStore')
  const database = option.required('database', options.database, DATABASE)
  const ttl = option.optional('ttl', options.ttl, optionRules.positiveIntegerMs)
  const timeout = option.withDefault('timeout', options.timeout, optionRules.positiveIntegerMs, 2000)
  // #endregion options

  // #region factory
  return ({ secrets }): TokenStore => {
    const records = sealedRecords(secrets)
    const { sessions, locks } = database

    /** A database call, bounded: a hung database must not hold a request. */
    const call = <T>(operation: () => T): Promise<T> => within('The map database', timeout, async () => operation())
    // #endregion factory

    // #region find
    /** The live row under any of the session's names (newest secret first), and its name. */
    function find (sessionId: string): { name: string, row: Row } | undefined {
      for (const name of records.names(sessionId)) {
        const row = sessions.get(name)
        if (row !== undefined && row.lapsesAt > Date.now()) return { name, row }
      }
      return undefined
    }
    // #endregion find

    // #region write
    /** Writes `token` under the newest name; the session's other names go. */
    function write (sessionId: string, token: SpotifyToken, userName: string, member: string): void {
      const [name, ...older] = records.names(sessionId) as [string, ...string[]]
      for (const old of older) sessions.delete(old)
      sessions.set(name, {
        version: token.refreshes,
        data: records.seal(token, name),
        lapsesAt: lapsesAt(token, ttl, Date.now()),
        userName,
        member,
        written: database.next()
      })
    }
    // #endregion write

    return {
      // #region get
      get: (sessionId) => call(() => {
        const found = find(sessionId)
        return found === undefined ? undefined : records.open(found.row.data, found.name, found.row.version)
      }),
      // #endregion get
      set: (sessionId, token) => call(() => {
        const userName = records.userNames(token.userId)[0] as string
        write(sessionId, token, userName, records.member(sessionId, userName))
      }),
      // #region update
      // Compare-and-set: in a database, one conditional write or transaction.
      update: (sessionId, previous, next) => call(() => {
        const found = find(sessionId)
        if (found === undefined || found.row.version !== previous.refreshes) return false
        write(sessionId, next, found.row.userName, found.row.member)
        return true
      }),
      delete: (sessionId, expected) => call(() => {
        if (expected !== undefined && find(sessionId)?.row.version !== expected.refreshes) return
        for (const name of records.names(sessionId)) sessions.delete(name)
      }),
      // #endregion update
      // #region sessionsOf
      sessionsOf: (userId) => call(() => {
        const names = new Set(records.userNames(userId))
        return [...sessions.values()]
          .filter((row) => names.has(row.userName) && row.lapsesAt > Date.now())
          .sort((a, b) => a.written - b.written)
          .map((row) => records.sessionOf(row.member, row.userName))
          .filter((sessionId): sessionId is string => sessionId !== undefined)
      }),
      // #endregion sessionsOf
      // #region lock
      lock: (sessionId, ttlMs) => call(() => {
        const name = records.names(sessionId)[0] as string
        const held = locks.get(name)
        if (held !== undefined && held.until > Date.now()) return undefined
        const token = leaseToken()
        locks.set(name, { token, until: Date.now() + leaseMs(ttlMs, timeout) })
        return () => call(() => {
          // Only our own lease: it may have lapsed and been taken since.
          if (locks.get(name)?.token === token) locks.delete(name)
        })
      })
      // #endregion lock
    }
  }
}
