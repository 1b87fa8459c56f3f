import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorCodes } from './errors.js'
import { because, isSpotifyAuthError } from './failures.js'

/** The body of every error response, in the shape the Web API itself uses. */
export interface SpotifyErrorBody {
  error: { status: number, message: string, code: string }
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

function spotifyErrorReply (error: FastifyError, request: FastifyRequest, reply: FastifyReply): unknown {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600
    ? error.statusCode
    : 500
  const exposed = isSpotifyAuthError(error) || status < 500
  // A summary, not the error: no stack trace in any log line, and nothing
  // of what a foreign error may carry (request options, headers).
  const err = { type: error.name, code: error.code, message: error.message, statusCode: status, ...(error.cause === undefined ? {} : because(error.cause)) }
  if (status >= 500) {
    request.log.error({ err }, 'fastify-spotify-auth: request failed')
  } else {
    request.log.info({ err }, 'fastify-spotify-auth: request refused')
  }
  const body: SpotifyErrorBody = {
    error: {
      status,
      message: exposed ? error.message : 'Internal Server Error',
      code: exposed && typeof error.code === 'string' ? error.code : errorCodes.INTERNAL
    }
  }
  return reply.code(status).send(body)
}
