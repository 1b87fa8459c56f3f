/** Small HTTP helpers shared by the accounts and API routes. */
import { STATUS_CODES } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** The query string of a request URL without the `?`, exactly as sent. */
export function rawQuery (url: string): string {
  const i = url.indexOf('?')
  return i === -1 ? '' : url.slice(i + 1)
}

/** The path of a request URL without the query string. */
export function rawPath (url: string): string {
  const i = url.indexOf('?')
  return i === -1 ? url : url.slice(0, i)
}

/** `Service Unavailable` → `Service unavailable`: the way Spotify words its messages. */
export function statusMessage (status: number): string {
  // Spotify's gateway words this one with a full stop.
  if (status === 502) return 'Bad gateway.'
  const text = STATUS_CODES[status] ?? 'Unknown error'
  return text.charAt(0) + text.slice(1).toLowerCase()
}

/**
 * The status and message for an error that reached an error handler: the
 * framework's own 4xx errors (body too large, bad content length, bad URL)
 * keep their status; anything else is a 500 that reveals nothing.
 */
export function errorStatus (err: { statusCode?: unknown }): number {
  const status = err.statusCode
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500
}

/** The OAuth error code for a status the token endpoint fails with. */
export function oauthErrorCode (status: number): string {
  if (status >= 500) return 'server_error'
  return status === 429 ? 'temporarily_unavailable' : 'invalid_request'
}

/** An error handler answering in the Web API's shape, never with details or a stack. */
export function apiErrorHandler (err: { statusCode?: unknown }, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = errorStatus(err)
  return apiError(reply, status, statusMessage(status))
}

/** An error handler answering in the token endpoint's OAuth shape. */
export function oauthErrorHandler (err: { statusCode?: unknown }, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = errorStatus(err)
  return oauthError(reply, status, oauthErrorCode(status), statusMessage(status))
}

/** Answers in the Web API's error shape: `{"error":{"status":…,"message":…}}`. */
export function apiError (reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send({ error: { status, message } })
}

/** Answers in the token endpoint's OAuth error shape: `{"error":…,"error_description":…}`. */
export function oauthError (reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  return reply.code(status).headers(NO_STORE).send({ error, error_description: description })
}

/** RFC 6749 §5.1: token responses must not be cached. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const

/**
 * Takes the response out of Fastify's hands and drops the connection once
 * the emulator closes: the client of a hanging call sees the socket end.
 */
export async function hangUntilClose (request: FastifyRequest, reply: FastifyReply, held: Promise<void>): Promise<FastifyReply> {
  reply.hijack()
  await held
  request.raw.socket.destroy()
  return reply
}
