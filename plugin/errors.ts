import { createError, type FastifyErrorConstructor } from '@fastify/error'

/*
 * Every error the plugin sends or throws. Codes are the stable contract (an
 * app's error handler may switch on them); messages are for humans and never
 * carry a token, a code, a cookie or a secret.
 *
 * They capture no stack trace, and their `cause` is a summary (name, code,
 * message) rather than the HTTP client's error object: whoever logs them
 * (the plugin, or an app's error handler through pino) writes no stack trace
 * and none of the request options a client error carries.
 */

/** What an error's `cause` keeps of the original failure. */
export interface CauseSummary {
  /** The original error's `name` (`RequestError`, `ReplyError`…). */
  readonly name: string
  /** Its `code`, when it has one (`ECONNREFUSED`, `ETIMEDOUT`…). */
  readonly code: string | undefined
  /** Its message. */
  readonly message: string
}

/** The options an error of the plugin takes: a summary of what caused it. */
export interface SpotifyErrorOptions {
  /** What caused the error, as a summary. */
  readonly cause: CauseSummary
}

/** Arguments of an error whose message is fixed. */
export type PlainErrorArgs = [options?: SpotifyErrorOptions]

/** Arguments of an error whose message takes one detail. */
export type DetailErrorArgs = [detail: string, options?: SpotifyErrorOptions]

/**
 * The class of one of the plugin's errors, callable with or without `new`:
 * its instances are `Error`s with this `code` and `statusCode`.
 */
export type SpotifyErrorClass<C extends string, S extends number, A extends unknown[]> =
  FastifyErrorConstructor<{
    /** The stable `FST_SPOTIFY_*` code. */
    code: C
    /** The HTTP status the plugin answers with. */
    statusCode: S
  }, A>

// Typed through FastifyErrorConstructor by name: the declarations tsc emits
// then import it by name, which resolves under every moduleResolution
// (`createError.FastifyErrorConstructor`, through @fastify/error's default
// export, is no namespace under "bundler").
function plainError<C extends string, S extends number> (code: C, message: string, statusCode: S): SpotifyErrorClass<C, S, PlainErrorArgs> {
  return createError<C, S, PlainErrorArgs>(code, message, statusCode, Error, false)
}

function detailError<C extends string, S extends number> (code: C, message: string, statusCode: S): SpotifyErrorClass<C, S, DetailErrorArgs> {
  return createError<C, S, DetailErrorArgs>(code, message, statusCode, Error, false)
}

/** An option passed to `register` is missing or wrong; the message names it. */
export const InvalidOptionError = detailError(
  'FST_SPOTIFY_INVALID_OPTION', 'fastify-spotify-auth: %s', 500)

/** The callback's `state` is missing or does not match the state cookie. */
export const InvalidStateError = plainError(
  'FST_SPOTIFY_INVALID_STATE', 'Invalid state: start the login again', 403)

/** Spotify sent the user back with `?error=` (for example `access_denied`). */
export const AuthorizationDeniedError = detailError(
  'FST_SPOTIFY_AUTHORIZATION_DENIED', 'Spotify authorization failed: %s', 401)

/** The callback was called without `?code=`. */
export const MissingCodeError = plainError(
  'FST_SPOTIFY_MISSING_CODE', 'Missing authorization code', 400)

/** The token endpoint refused the authorization code (used, expired, wrong redirect or verifier). */
export const InvalidCodeError = detailError(
  'FST_SPOTIFY_INVALID_CODE', 'Spotify refused the authorization code: %s', 400)

/** The request has no session, or its session is gone. */
export const NoSessionError = plainError(
  'FST_SPOTIFY_NO_SESSION', 'Not logged in with Spotify', 401)

/** Spotify refused the refresh token (`invalid_grant`): the session was deleted. */
export const SessionRevokedError = plainError(
  'FST_SPOTIFY_SESSION_REVOKED', 'The Spotify session has ended: log in again', 401)

/** An upstream call (token endpoint or Web API) failed or answered 5xx. */
export const UpstreamError = detailError(
  'FST_SPOTIFY_UPSTREAM_ERROR', 'Spotify is unavailable: %s', 502)

/** An upstream call did not answer within `timeout`. */
export const UpstreamTimeoutError = plainError(
  'FST_SPOTIFY_UPSTREAM_TIMEOUT', 'Spotify did not answer in time', 504)

/** A proxied path would leave `{apiUrl}/v1/` or is ambiguous. */
export const InvalidPathError = plainError(
  'FST_SPOTIFY_INVALID_PATH', 'Invalid Web API path', 400)

/** The token store could not be reached. */
export const StoreUnavailableError = plainError(
  'FST_SPOTIFY_STORE_UNAVAILABLE', 'The session store is unavailable', 503)

/**
 * `request.spotify` was read before the plugin's own `onRequest` hook ran (a
 * hook added before the plugin was registered): a programming error.
 */
export const TooEarlyError = plainError(
  'FST_SPOTIFY_TOO_EARLY',
  'fastify-spotify-auth: request.spotify was used before the plugin\'s onRequest hook: register the plugin before the hooks that use it',
  500)

/**
 * Another process is refreshing this session and did not finish in time,
 * or may hold the session's rotated refresh token unsaved: Spotify refused
 * the stored one within minutes of that process's refresh.
 */
export const RefreshBusyError = plainError(
  'FST_SPOTIFY_REFRESH_BUSY', 'The session is being refreshed elsewhere: try again', 503)

/**
 * A URL given to one of the plugin's got clients is not under
 * `{apiUrl}/v1/`: the session's bearer token is never sent there.
 */
export const ForeignUrlError = plainError(
  'FST_SPOTIFY_FOREIGN_URL', 'Refused to send the Spotify token outside the Web API', 400)

/** An unsafe request (POST, PUT, PATCH, DELETE) from another origin than the app's. */
export const CrossSiteRequestError = plainError(
  'FST_SPOTIFY_CROSS_SITE', 'Cross-site request refused', 403)

/** A Web API response larger than the proxy's `proxyResponseLimit`. */
export const UpstreamTooLargeError = plainError(
  'FST_SPOTIFY_UPSTREAM_TOO_LARGE', 'The Web API response is too large to pass on', 502)

/** `sessionsOf`, `endSessionsOf` or the device routes on a store that keeps no per-user index, or `sessionsExpiringBefore` on one without it. */
export const StoreUnsupportedError = plainError(
  'FST_SPOTIFY_STORE_UNSUPPORTED', 'fastify-spotify-auth: the token store lacks the capability this needs (sessionsOf, sessionsExpiringBefore)', 500)

/**
 * Spotify answered 429 to this app (from any instance sharing the store) and
 * its `Retry-After` has not passed: the call was not sent. `retryAfter` is
 * the whole seconds left (at least 1), also sent as the `Retry-After` header.
 */
export const RateLimitedError = detailError(
  'FST_SPOTIFY_RATE_LIMITED', 'Spotify\'s rate limit: try again in %s s', 429)

/**
 * Spotify's quota is spent: the Web API answered 429 with the reason
 * `QUOTA_EXCEEDED` (a Development Mode app's calls over its rolling day),
 * to this app or to any instance sharing the store, and its `Retry-After`
 * (often hours) has not passed: the call was not sent. `retryAfter` is the
 * whole seconds left (at least 1), also sent as the `Retry-After` header.
 */
export const QuotaExceededError = detailError(
  'FST_SPOTIFY_QUOTA_EXCEEDED', 'Spotify\'s quota for this app is spent: try again in %s s', 429)

/**
 * The session's granted scopes lack some a route needs (`requireScopes`, the
 * playback token route). The message lists them, space-separated, as
 * Spotify writes scopes; so does the error's `scopes`.
 */
export const MissingScopesError = detailError(
  'FST_SPOTIFY_MISSING_SCOPES', 'Missing Spotify scopes: %s', 403)

/** A `MissingScopesError` that also carries the missing scopes as a list. */
export function missingScopes (scopes: readonly string[]): InstanceType<typeof MissingScopesError> & { scopes: readonly string[] } {
  return Object.assign(new MissingScopesError(scopes.join(' ')), { scopes })
}

/** A request to the proxy, a session route or the playback token lacks the `requireHeader` header; the message names it. */
export const MissingHeaderError = detailError(
  'FST_SPOTIFY_MISSING_HEADER', 'Missing the %s request header', 403)

/**
 * `DELETE {sessionPath}/devices/:id` named no session of the current user:
 * the same answer whether the id is another user's, ended, or made up.
 */
export const DeviceNotFoundError = plainError(
  'FST_SPOTIFY_DEVICE_NOT_FOUND', 'No such device among your sessions', 404)

/**
 * Every code an error of the plugin can carry, for an app's error handler to
 * switch on: `if (error.code === errorCodes.NO_SESSION) …`.
 */
export const errorCodes = Object.freeze({
  /** {@link InvalidOptionError} */
  INVALID_OPTION: 'FST_SPOTIFY_INVALID_OPTION',
  /** {@link InvalidStateError} */
  INVALID_STATE: 'FST_SPOTIFY_INVALID_STATE',
  /** {@link AuthorizationDeniedError} */
  AUTHORIZATION_DENIED: 'FST_SPOTIFY_AUTHORIZATION_DENIED',
  /** {@link MissingCodeError} */
  MISSING_CODE: 'FST_SPOTIFY_MISSING_CODE',
  /** {@link InvalidCodeError} */
  INVALID_CODE: 'FST_SPOTIFY_INVALID_CODE',
  /** {@link NoSessionError} */
  NO_SESSION: 'FST_SPOTIFY_NO_SESSION',
  /** {@link SessionRevokedError} */
  SESSION_REVOKED: 'FST_SPOTIFY_SESSION_REVOKED',
  /** {@link UpstreamError} */
  UPSTREAM_ERROR: 'FST_SPOTIFY_UPSTREAM_ERROR',
  /** {@link UpstreamTimeoutError} */
  UPSTREAM_TIMEOUT: 'FST_SPOTIFY_UPSTREAM_TIMEOUT',
  /** {@link InvalidPathError} */
  INVALID_PATH: 'FST_SPOTIFY_INVALID_PATH',
  /** {@link StoreUnavailableError} */
  STORE_UNAVAILABLE: 'FST_SPOTIFY_STORE_UNAVAILABLE',
  /** {@link StoreUnsupportedError} */
  STORE_UNSUPPORTED: 'FST_SPOTIFY_STORE_UNSUPPORTED',
  /** {@link TooEarlyError} */
  TOO_EARLY: 'FST_SPOTIFY_TOO_EARLY',
  /** {@link RefreshBusyError} */
  REFRESH_BUSY: 'FST_SPOTIFY_REFRESH_BUSY',
  /** {@link ForeignUrlError} */
  FOREIGN_URL: 'FST_SPOTIFY_FOREIGN_URL',
  /** {@link CrossSiteRequestError} */
  CROSS_SITE: 'FST_SPOTIFY_CROSS_SITE',
  /** {@link UpstreamTooLargeError} */
  UPSTREAM_TOO_LARGE: 'FST_SPOTIFY_UPSTREAM_TOO_LARGE',
  /** {@link RateLimitedError} */
  RATE_LIMITED: 'FST_SPOTIFY_RATE_LIMITED',
  /** {@link QuotaExceededError} */
  QUOTA_EXCEEDED: 'FST_SPOTIFY_QUOTA_EXCEEDED',
  /** {@link MissingScopesError} */
  MISSING_SCOPES: 'FST_SPOTIFY_MISSING_SCOPES',
  /** {@link MissingHeaderError} */
  MISSING_HEADER: 'FST_SPOTIFY_MISSING_HEADER',
  /** {@link DeviceNotFoundError} */
  DEVICE_NOT_FOUND: 'FST_SPOTIFY_DEVICE_NOT_FOUND',
  /** Sent in a response body only: an error that is not the plugin's, hidden behind a 500. */
  INTERNAL: 'FST_SPOTIFY_INTERNAL'
} as const)

/** One of `errorCodes`. */
export type SpotifyErrorCode = typeof errorCodes[keyof typeof errorCodes]
