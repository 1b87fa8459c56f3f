/**
 * CORS as api.spotify.com and accounts.spotify.com's token endpoint do it,
 * so browser apps (PKCE without a backend) work against the emulator:
 * preflights answered, and `Access-Control-Allow-Origin: *` on every
 * response of `/v1` and `/api/token`. The HTML pages of `/authorize` get
 * none: a browser navigates there, it never fetches them.
 */
import type { FastifyInstance } from 'fastify'
import { rawPath } from './http.js'

const API_PREFLIGHT = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS, PUT, DELETE, PATCH',
  'access-control-allow-headers': 'Accept, App-Platform, Authorization, Content-Type, Origin, Retry-After, Spotify-App-Version, X-Cloud-Trace-Context, client-token, content-access-token',
  'access-control-max-age': '604800'
} as const

const TOKEN_PREFLIGHT = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'Authorization, Content-Type',
  'access-control-max-age': '604800'
} as const

function isCorsPath (path: string): boolean {
  return path.startsWith('/v1/') || path === '/v1' || path === '/api/token'
}

/** Adds the preflight routes and the response header; call before the other routes register. */
export function addCors (app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    if (isCorsPath(rawPath(request.url))) reply.header('access-control-allow-origin', '*')
  })
  app.options('/v1/*', async (_request, reply) => reply.code(204).headers(API_PREFLIGHT).send())
  app.options('/api/token', async (_request, reply) => reply.code(204).headers(TOKEN_PREFLIGHT).send())
}
