import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorCodes } from './errors.js'
import { isSpotifyAuthError, summaryOf } from './failures.js'

/** What an error response says: the `error` of {@link SpotifyErrorBody}. */
export interface SpotifyErrorDetails {
  /** The HTTP status, as the response's. */
  status: number
  /** For humans; `Internal Server Error` for a 5xx that is not the plugin's. */
  message: string
  /** A stable `FST_SPOTIFY_*` code (`FST_SPOTIFY_INTERNAL` for an error that is not the plugin's), or a 4xx error's own code. */
  code: string
}

/** The body of every error response, in the shape the Web API itself uses. */
export interface SpotifyErrorBody {
  /** The error, as the Web API nests it. */
  error: SpotifyErrorDetails
}

/**
 * Sets the error handler of the plugin's own routes (`scope`). With
 * `errorHandler: 'app'`, the app's handler, whichever it is when the error
 * happens (set before or after the plugin), gets every error with its stable
 * `code` to render as it likes. Otherwise errors answer in the Web API's
 * shape, and nothing of a 5xx that is not ours (a stack, a message that may
 * quote a secret) reaches the client.
 */
export function useErrorHandler (scope: FastifyInstance, app: FastifyInstance, owner: 'spotify' | 'app'): void {
  scope.setErrorHandler(owner === 'app'
    ? (error, request, reply) => app.errorHandler(error, request, reply)
    : spotifyErrorReply)
}

/**
 * What may be shown of an error: its status, and its message and code when
 * the error is the plugin's (or `shown` says its code is to be shown) or a
 * 4xx. Anything else is a 500 whose message may quote anything (a secret, a
 * path): it becomes `Internal Server Error`, `FST_SPOTIFY_INTERNAL`.
 */
export function errorBody (error: FastifyError, shown?: (code: string) => boolean): SpotifyErrorDetails {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600
    ? error.statusCode
    : 500
  const code = typeof error.code === 'string' ? error.code : undefined
  const exposed = status < 500 || isSpotifyAuthError(error) || (code !== undefined && shown?.(code) === true)
  return exposed
    ? { status, message: error.message, code: code ?? errorCodes.INTERNAL }
    : { status, message: 'Internal Server Error', code: errorCodes.INTERNAL }
}

function spotifyErrorReply (error: FastifyError, request: FastifyRequest, reply: FastifyReply): unknown {
  const body = errorBody(error)
  // A summary, not the error: no stack trace in any log line, and nothing
  // of what a foreign error may carry (request options, headers).
  const err = { type: error.name, code: error.code, message: error.message, statusCode: body.status, ...(error.cause === undefined ? {} : { cause: summaryOf(error.cause) }) }
  if (body.status >= 500) {
    request.log.error({ err }, 'fastify-spotify-auth: request failed')
  } else {
    request.log.info({ err }, 'fastify-spotify-auth: request refused')
  }
  // Headers one of our errors asks for (`Retry-After` of
  // FST_SPOTIFY_RATE_LIMITED), as Fastify's default handler sends them;
  // nobody else's: they could carry anything.
  const headers = (error as { headers?: Record<string, string> }).headers
  if (headers !== undefined && isSpotifyAuthError(error)) reply.headers(headers)
  return reply.code(body.status).send({ error: body } satisfies SpotifyErrorBody)
}
