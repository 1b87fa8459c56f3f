import {
  StoreUnavailableError, UpstreamError, UpstreamTimeoutError, type CauseSummary
} from './errors.js'

/*
 * Where failures of what the plugin depends on become its errors: one
 * function for Spotify (token endpoint, Web API, through got or undici) and
 * one for the token store. Every caller goes through them, so that a timeout
 * is a 504 and a store outage a 503 whatever the path.
 */

/**
 * What may be kept of a failure: its name, code and message, never the
 * object itself (an HTTP client's error carries its request options, a
 * store client's its connection). Errors take it as `{ cause }`; log lines
 * as `err`.
 */
export function summaryOf (error: unknown): CauseSummary {
  const e = error as { name?: unknown, code?: unknown, message?: unknown } | null | undefined
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    code: typeof e?.code === 'string' ? e.code : undefined,
    message: typeof e?.message === 'string' ? e.message : String(error)
  }
}

/** An error the plugin made (it has an `FST_SPOTIFY_*` code): passed on as it is. */
export function isSpotifyAuthError (value: unknown): value is Error & { code: string, statusCode: number } {
  const code = (value as { code?: unknown } | null | undefined)?.code
  return value instanceof Error && typeof code === 'string' && code.startsWith('FST_SPOTIFY_')
}

/** got's `ETIMEDOUT`, and undici's timeouts (connect, headers, body). */
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/**
 * A call to Spotify that got no answer: 504 when it ran out of time, 502
 * otherwise. `what` names the endpoint in the message ("the Web API").
 */
export function upstreamFailure (cause: unknown, what: string): Error {
  if (TIMEOUT_CODES.has((cause as { code?: unknown } | null | undefined)?.code as string)) {
    return new UpstreamTimeoutError({ cause: summaryOf(cause) })
  }
  return new UpstreamError(`${what} could not be reached`, { cause: summaryOf(cause) })
}

/** Any failure of the token store (down, slow, a custom store's bug): 503. */
export function storeFailure (cause: unknown): Error {
  return new StoreUnavailableError({ cause: summaryOf(cause) })
}

function rethrowStoreFailure (cause: unknown): never {
  throw storeFailure(cause)
}

/**
 * Runs a store operation with its failures mapped by `storeFailure`; a store
 * that throws instead of rejecting is made to reject.
 */
export function storeCall<T> (operation: () => Promise<T>): Promise<T> {
  let pending: Promise<T>
  try {
    pending = operation()
  } catch (cause) {
    return Promise.reject(storeFailure(cause))
  }
  return pending.then(undefined, rethrowStoreFailure)
}
