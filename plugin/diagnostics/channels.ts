import { channel, tracingChannel, type Channel, type TracingChannel } from 'node:diagnostics_channel'
import { summaryOf } from '../failures.js'

/*
 * Every diagnostics channel the plugin publishes on, and the shape of each
 * message. Publishing is guarded by `hasSubscribers` at every call site: a
 * process that subscribes to none pays one property read per operation.
 *
 * No message carries a token, a code, a verifier, a secret, a cookie or a
 * session id: a session appears as `session`, a keyed hash of its id
 * (`session-tag.ts`), the same on every instance sharing the `secret`.
 */

/** The names of the plugin's channels (tracing channels add `tracing:…:start` and the rest). */
export const diagnosticsChannels = {
  /** Tracing channel: a token call that is not a refresh (a login's code exchange, the app's Client Credentials). */
  tokenExchange: 'fastify-spotify-auth:token.exchange',
  /** Tracing channel: one caller's refresh of a session, lock wait included. */
  tokenRefresh: 'fastify-spotify-auth:token.refresh',
  /** Tracing channel: one operation on the token store. */
  store: 'fastify-spotify-auth:store',
  /** Tracing channel: one call to the Web API, from any client, through the call policy. */
  webApi: 'fastify-spotify-auth:web-api',
  /** Channel: the app's rate-limit window opened or closed. */
  rateLimit: 'fastify-spotify-auth:rate-limit',
  /** Channel: a session started or ended. */
  session: 'fastify-spotify-auth:session'
} as const

/**
 * What a tracing channel adds to its message: `error` on `error` (a summary
 * with the plugin's code, never the error that carried it), nothing as
 * `result` (results hold tokens: subscribers read the fields below).
 */
export interface TracedMessage {
  /** Set on the `error` event: the failure's name, code and message, nothing else. */
  error?: TracedError
}

/** A failure as the tracing channels publish it. */
export interface TracedError extends Error {
  /** The failure's code: `FST_SPOTIFY_*` for the plugin's own errors, a client's (`ECONNREFUSED`) otherwise. */
  readonly code?: string | undefined
}

/** `fastify-spotify-auth:token.exchange`. */
export interface TokenExchangeMessage extends TracedMessage {
  /** `authorization_code`: a login's callback; `client_credentials`: the app's token (`fastify.spotify.app`). */
  readonly grant: 'authorization_code' | 'client_credentials'
}

/** Why a session's token was refreshed. */
export type RefreshReason = 'margin' | '401' | 'forced'

/** `fastify-spotify-auth:token.refresh`: one caller's refresh (callers that share one each publish theirs). */
export interface TokenRefreshMessage extends TracedMessage {
  /** The session, as a keyed hash of its id. */
  readonly session: string
  /** `margin`: within `refreshMargin` of expiry; `401`: the Web API refused the token; `forced`: `refresh()` was called. */
  readonly reason: RefreshReason
  /**
   * `true` when this caller asked Spotify nothing: it joined a refresh
   * already running in this process, or took the token another instance
   * (or an earlier refresh) had just written.
   */
  merged: boolean
  /**
   * Milliseconds from the first try for the store's refresh lock until this
   * caller held it or had another instance's token: one store round trip
   * when the lock was free, 0 on a store without a lock.
   */
  lockWaitMs: number
}

/** A store operation, as the `store` channel names it. */
export type StoreOperation = 'get' | 'set' | 'update' | 'delete' | 'lock' | 'unlock' | 'sessionsOf' | 'sessionsExpiringBefore' | 'ping'

/** `fastify-spotify-auth:store`. */
export interface StoreMessage extends TracedMessage {
  /** The `TokenStore` method (`unlock`: the release function a `lock` resolved). */
  readonly operation: StoreOperation
  /** `memory`, `redis`, `postgres`, or `custom` for a store of the app's own. */
  readonly store: string
  /** For `update` and `delete` (with an expected version) and `lock`: whether it took effect, set once it settles. */
  applied?: boolean
}

/** Where a Web API answer came from. */
export type WebApiSource = 'network' | 'cache' | 'merged'

/** `fastify-spotify-auth:web-api`. */
export interface WebApiMessage extends TracedMessage {
  /** The HTTP method. */
  readonly method: string
  /** The path as a template of Spotify's API (`/v1/playlists/{id}/items`), never with ids or a query; `/v1/{other}` when it is none of them. */
  readonly route: string
  /** Spotify's status, set once the answer is in (absent when the call failed). */
  status?: number
  /** Where the answer came from, set with `status`. */
  source?: WebApiSource
  /** How many times the call went to Spotify: 2 after a 401 answered with a renewed token. */
  attempts: number
}

/**
 * Where `answer` came from: an answer that says (a cache's, a merged
 * call's) is taken at its word; any other came from the network.
 */
export function answerSource (answer: object): WebApiSource {
  return (answer as { readonly source?: WebApiSource }).source ?? 'network'
}

/** Why the rate-limit window is open. */
export type RateLimitReason = 'rate' | 'quota'

/** `fastify-spotify-auth:rate-limit`. */
export interface RateLimitMessage {
  /** `opened`: a 429 (here, or another instance's through the store) opened or extended it; `closed`: a call found it over. */
  readonly state: 'opened' | 'closed'
  /** `rate`: Spotify's short rate limit; `quota`: the app's quota is spent. */
  readonly reason: RateLimitReason
  /** Seconds the window stays open from now (0 once closed). */
  readonly retryAfter: number
  /** When the window ends (or ended), in Unix ms. */
  readonly until: number
  /** `local`: a 429 this instance got; `shared`: learnt from the store. */
  readonly origin: 'local' | 'shared'
}

/** Why a session ended. */
export type SessionEndReason = 'logout' | 'revoked' | 'expired' | 'per-user-cap' | 'ended-elsewhere' | 'replaced'

/** `fastify-spotify-auth:session`: a login stored a new session. */
export interface SessionStartedMessage {
  /** What happened. */
  readonly event: 'started'
  /** The session, as a keyed hash of its id. */
  readonly session: string
}

/** `fastify-spotify-auth:session`: a session ended. */
export interface SessionEndedMessage {
  /** What happened. */
  readonly event: 'ended'
  /** The session, as a keyed hash of its id. */
  readonly session: string
  /**
   * `logout`: ended by the app (the logout route, `logout()`, a handle's
   * `end()`, `endSessionsOf`); `revoked`: Spotify refused its refresh
   * token; `expired`: refused within a minute of the refresh token's
   * lifetime; `per-user-cap`: ended by a newer login past
   * `maxSessionsPerUser`; `ended-elsewhere`: its record was gone when read
   * (ended by another instance, or lapsed in the store); `replaced`: the
   * browser logged in again.
   */
  readonly reason: SessionEndReason
}

/** `fastify-spotify-auth:session`. */
export type SessionMessage = SessionStartedMessage | SessionEndedMessage

export const tokenExchangeChannel: TracingChannel<unknown, TokenExchangeMessage> = tracingChannel(diagnosticsChannels.tokenExchange)
export const tokenRefreshChannel: TracingChannel<unknown, TokenRefreshMessage> = tracingChannel(diagnosticsChannels.tokenRefresh)
export const storeChannel: TracingChannel<unknown, StoreMessage> = tracingChannel(diagnosticsChannels.store)
export const webApiChannel: TracingChannel<unknown, WebApiMessage> = tracingChannel(diagnosticsChannels.webApi)
export const rateLimitChannel: Channel = channel(diagnosticsChannels.rateLimit)
export const sessionChannel: Channel = channel(diagnosticsChannels.session)

/**
 * The error a tracing channel's `error` event carries: the failure's name,
 * code and message only. A store client's error may carry the command and
 * its arguments (a token record), an HTTP client's its headers.
 */
function traceableError (cause: unknown): TracedError {
  const summary = summaryOf(cause)
  return Object.assign(new Error(summary.message), { name: summary.name, code: summary.code })
}

/**
 * Runs `work` as one trace of `traced` with `message`, when anyone
 * subscribes (the caller checks `hasSubscribers` first, so that building
 * the message costs nothing otherwise): `start` (with its bound stores),
 * `end`, then `asyncStart` and `asyncEnd` once `work` settled, `error`
 * before them if it failed. What `TracingChannel.tracePromise` publishes,
 * except that `work`'s result is handed back to the caller, never to
 * subscribers (it may hold a token), and its failure reaches them as a
 * summary only. Written out rather than wrapped around `tracePromise`:
 * hiding the result that way took three promises more per call.
 */
export function traced<T, M extends TracedMessage> (traced: TracingChannel<unknown, M>, message: M, work: () => Promise<T>): Promise<T> {
  return traced.start.runStores(message, () => {
    let running: Promise<T>
    try {
      running = work()
    } catch (cause) {
      // A store that throws instead of rejecting: its error must not reach
      // subscribers either.
      running = Promise.reject(cause)
    } finally {
      traced.end.publish(message)
    }
    return running.then((value) => {
      traced.asyncStart.publish(message)
      traced.asyncEnd.publish(message)
      return value
    }, (cause: unknown) => {
      message.error = traceableError(cause)
      traced.error.publish(message)
      traced.asyncStart.publish(message)
      traced.asyncEnd.publish(message)
      throw cause
    })
  })
}
