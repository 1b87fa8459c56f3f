import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { because } from './errors.js'

/** The body of every error response, in the shape the Web API itself uses. */
export interface SpotifyErrorBody {
  error: { status: number, message: string, code: string }
}

function isOurs (error: FastifyError): boolean {
  return typeof error.code === 'string' && error.code.startsWith('FST_SPOTIFY_')
}

/**
 * The error handler of the plugin's own routes. An app that set its own
 * handler (before or after registering the plugin) gets every error, with its
 * stable `code`, to render as it likes; otherwise errors answer in Spotify's
 * shape, and nothing of a 5xx that is not ours (a stack, a message that may
 * quote a secret) reaches the client.
 */
export function spotifyErrorHandler (app: FastifyInstance) {
  return function handleError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): unknown {
    const appHandler = app.errorHandler
    if (appHandler.name !== 'defaultErrorHandler') return appHandler(error, request, reply)

    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600
      ? error.statusCode
      : 500
    const exposed = isOurs(error) || status < 500
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
        code: exposed && typeof error.code === 'string' ? error.code : 'FST_SPOTIFY_INTERNAL'
      }
    }
    return reply.code(status).send(body)
  }
}
