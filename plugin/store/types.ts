/**
 * One user's Spotify tokens, as the plugin keeps them server-side.
 * Plain data: stores may serialise it as JSON and hand back a copy, and
 * must keep every field, the optional ones included.
 */
export interface SpotifyToken {
  /** The Spotify user id (`GET /v1/me`'s `id`), learnt at login. */
  readonly userId: string
  /**
   * The user's Spotify account id (`GET /v1/me`'s `account_id`), learnt at
   * login: public, immutable and pseudonymous, unlike `userId`, which Spotify
   * advises against for linking accounts. Absent when Spotify sent none.
   */
  readonly accountId?: string
  /** The user's display name on Spotify at login (`null`: they set none); absent for sessions stored before it was kept. */
  readonly displayName?: string | null
  /** The browser of the login, as a short family ("Chrome on macOS"): what a device list shows. Never the raw header. */
  readonly userAgent?: string
  /** The bearer token for the Web API. */
  readonly accessToken: string
  /** The refresh token; kept when Spotify's refresh response omits it. */
  readonly refreshToken: string
  /** When the access token expires: Unix time in seconds, as JWT's `exp`. */
  readonly expiresAt: number
  /** The scopes Spotify granted (not the ones requested). */
  readonly scope: readonly string[]
  /** When this access token was obtained (login or last refresh): Unix time in seconds. */
  readonly obtainedAt: number
  /** When the user authorized the app (the login's code exchange): Unix time in seconds. Refreshes keep it. */
  readonly authorizedAt: number
  /**
   * When Spotify stops accepting the refresh token: six months after
   * `authorizedAt`, whatever the refreshes. From then on the session ends at
   * its next refresh and the user must log in again; warn them before.
   * Stores keep a session until then by default.
   */
  readonly refreshTokenExpiresAt: number
  /**
   * How many refreshes this session has had since login. It also serves as the
   * record's version: a refresh writes `refreshes + 1` only over `refreshes`.
   */
  readonly refreshes: number
  /**
   * The plugin's own bookkeeping, written on the record (at the same
   * version) before it asks Spotify for a new token, and gone from the
   * refreshed record: when a refresh of this version started, Unix time in
   * seconds. While it is recent, Spotify's `invalid_grant` does not end the
   * session: another process may hold the rotated refresh token and still
   * be writing it. Absent when no refresh of this version was tried.
   */
  readonly refreshStartedAt?: number
  /**
   * The plugin's own bookkeeping: Spotify refused this version's refresh
   * token while `refreshStartedAt` was recent, so the session waits for
   * that other refresh's write (503) without asking Spotify again.
   */
  readonly refreshRefused?: boolean
}

/**
 * Where sessions live. `memoryStore()` and `redisStore()` implement it; so can
 * any database. Every method may reject: the plugin answers 503
 * (`FST_SPOTIFY_STORE_UNAVAILABLE`) and keeps running.
 */
export interface TokenStore {
  /** The session's token, or `undefined` when there is none (or it lapsed). */
  get (sessionId: string): Promise<SpotifyToken | undefined>
  /** Creates or overwrites the session (used at login). */
  set (sessionId: string, token: SpotifyToken): Promise<void>
  /**
   * Writes `next` only if the stored record is still `previous`'s version
   * (same `refreshes`) and has not been deleted. Resolves `false` otherwise,
   * so that a logout during a refresh is never undone. Only the version is
   * compared, and `next` may have the same version as `previous`: the
   * plugin marks a record that way before it calls Spotify to refresh it
   * (`refreshStartedAt`), and that refresh's write then lands over the
   * marked record.
   */
  update (sessionId: string, previous: SpotifyToken, next: SpotifyToken): Promise<boolean>
  /**
   * Deletes the session; no error when it does not exist. With `expected`,
   * only while the record is still at `expected.refreshes`: a refresh that
   * Spotify refused must not delete the newer token a sibling just wrote.
   */
  delete (sessionId: string, expected?: SpotifyToken): Promise<void>
  /**
   * Optional: a lock around one session's refresh, shared by every process
   * using the store. Resolves a release function when taken, `undefined`
   * when another holder has it. It must expire by itself, so that a holder
   * that dies does not block the session: `ttlMs` covers the holder's call
   * to Spotify, and a store adds the time its own read and write may take. Without it, refreshes
   * are single-flight within a process only.
   */
  lock? (sessionId: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>
  /**
   * Optional: the ids of a user's live sessions (`token.userId`), least
   * recently used first. A store that offers it keeps the index itself:
   * `set` files a session under its user, `delete` and expiry take it out.
   * Without it, `sessionsOf`, `endSessionsOf` and `maxSessionsPerUser` are
   * not available.
   */
  sessionsOf? (userId: string): Promise<string[]>
  /**
   * Optional: the ids of the live sessions whose refresh token ends
   * (`refreshTokenExpiresAt`) before `time` (Unix seconds), soonest first:
   * for a job that asks users to reconnect before Spotify's six-month wall.
   * Without it, `fastify.spotify.sessionsExpiringBefore` rejects with
   * `FST_SPOTIFY_STORE_UNSUPPORTED`.
   */
  sessionsExpiringBefore? (time: number): Promise<string[]>
  /**
   * Optional: resolves once the store answers (a round trip to its server:
   * Redis `PING`, PostgreSQL `SELECT 1`), rejects when it cannot. Used by
   * `fastify.spotify.health()`; without it, health probes the store with a
   * `get` of an id no session has.
   */
  ping? (): Promise<void>
  /**
   * Optional: `false` while the store cannot vouch that a read shows every
   * write made to it (a failover just happened, a write is unconfirmed).
   * Spotify's `invalid_grant` then does not delete the session (the request
   * gets a 503): the rotated refresh token may still be on its way back from
   * the memory of the process that refreshed. Without it, the store is
   * taken to be always settled.
   */
  settled? (sessionId: string): boolean
  /**
   * Optional: news of a session's record, so that a process waiting for
   * another one's refresh (behind `lock`) learns of the new token as soon as
   * it is written instead of at its next poll. Resolves at the next change
   * of the session announced by any process using the store (a write, or
   * its refresh lock released), or once `signal` aborts, whichever comes
   * first. May reject when it cannot watch (a subscriber connection down):
   * the plugin then polls. A lost announcement costs a poll interval, never
   * a wrong answer: the plugin re-reads the record either way.
   */
  watch? (sessionId: string, signal: AbortSignal): Promise<void>
  /**
   * Optional: the app's Web API rate-limit window, shared by every process
   * using the store. Spotify's rate limit is per app, not per instance:
   * after one instance's 429, all of them wait out its `Retry-After`.
   * Without it, each plugin instance keeps a window of its own.
   */
  readonly rateLimit?: RateLimitWindow
  /**
   * Optional: releases what the store opened itself (a subscriber
   * connection), never a client it was given. The plugin calls it when it
   * closes, for a store it built from a factory; a store you built, you close.
   */
  close? (): Promise<void> | void
}

/**
 * A window during which no call goes to the Web API, shared by the
 * processes of one store.
 */
export interface RateLimitWindow {
  /**
   * Opens the window until `untilMs` (Unix time in ms), or extends it: a
   * window already open until later is never shortened. Other processes
   * learn of it shortly after (the Redis store publishes it). `reason` is
   * why, when Spotify said more than "429" (`'quota'`: its quota is spent):
   * a store that can, keeps it with the window it opened.
   */
  hold (untilMs: number, reason?: RateLimitReason): Promise<void> | void
  /**
   * Until when the window is open, in Unix ms (0, or a time past, when it is
   * not). Read before every Web API call: it must be synchronous and cost no
   * round trip (keep a local copy, updated as news arrives).
   */
  until (): number
  /**
   * Optional: the `reason` held with the window `until()` reports, if any;
   * synchronous like `until()`. Without it, other processes answer a quota
   * window as a rate limit (`FST_SPOTIFY_RATE_LIMITED`).
   */
  reason? (): RateLimitReason | undefined
}

/**
 * Why a rate-limit window is open, beyond a plain 429: `'quota'` when
 * Spotify's body said `QUOTA_EXCEEDED` (the app's quota for its rolling day
 * is spent, and `Retry-After` is hours).
 */
export type RateLimitReason = 'quota'

/** What the plugin hands a store factory at register time. */
export interface StoreContext {
  /** The plugin's `secret` list (first = current): a store may derive keys from it. */
  readonly secrets: readonly string[]
  /**
   * The plugin's `clientId`: the app as Spotify counts it. Spotify's rate
   * limit is per client id, so a store that shares the rate-limit window
   * between processes names the window after it (never after the secret):
   * apps with one client id share one window, and no others do.
   */
  readonly clientId: string
}

/**
 * Builds a store from the plugin's context, once, at register time. A
 * rejection fails `register` (for example: the database cannot be reached).
 */
export type StoreFactory = (context: StoreContext) => TokenStore | Promise<TokenStore>
