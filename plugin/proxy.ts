import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Pool, type Dispatcher } from 'undici'
import { safeApiPath } from './api-path.js'
import type { Authenticator } from './authenticator.js'
import { InvalidPathError, NoSessionError, UpstreamError, UpstreamTimeoutError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import type { SessionCookie } from './session-cookie.js'
import type { SpotifyToken } from './store/types.js'

/**
 * Request headers that reach Spotify; everything else (cookie, authorization,
 * host, hop-by-hop) stays behind. `content-length` is on the contract's list
 * too: undici sets it from the (buffered) body, so it always matches.
 */
const FORWARDED_REQUEST_HEADERS = [
  'accept', 'accept-language', 'content-type',
  'if-match', 'if-none-match', 'if-modified-since', 'range'
] as const

/**
 * Response headers that never come back: cookies of the upstream, hop-by-hop
 * headers, and the length that Fastify sets again for the same bytes.
 */
const DROPPED_RESPONSE_HEADERS = new Set([
  'set-cookie', 'set-cookie2', 'connection', 'keep-alive', 'proxy-authenticate',
  'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-length'
])

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])

export interface ProxyServices {
  options: ResolvedOptions
  authenticator: Authenticator
  cookie: SessionCookie
}

function forwardedHeaders (incoming: IncomingHttpHeaders, token: SpotifyToken): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${token.accessToken}` }
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = incoming[name]
    if (typeof value === 'string') headers[name] = value
  }
  return headers
}

function returnedHeaders (upstream: Dispatcher.ResponseData['headers']): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {}
  for (const name in upstream) {
    const value = upstream[name]
    if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) headers[name] = value
  }
  return headers
}

interface Forwarded {
  status: number
  headers: Dispatcher.ResponseData['headers']
  body: Buffer
}

/**
 * `{ANY} {proxyPrefix}/*` → `{apiUrl}/v1/*` with the session's bearer token.
 *
 * Forwarded with undici, not got: got normalises ~40 options per request,
 * which made this path 3× slower than @fastify/http-proxy (bench/README.md);
 * undici's pool, which @fastify/http-proxy itself uses, keeps up. got stays
 * the client of `request.spotify.api` and of the token endpoint.
 *
 * Registered in its own scope: the body is taken as raw bytes, whatever its
 * type, so that it is forwarded untouched and can be sent again after a 401.
 */
export async function proxyRoutes (scope: FastifyInstance, services: ProxyServices): Promise<void> {
  const { options, authenticator, cookie } = services
  const api = new URL(options.apiUrl + '/')
  const upstreamBase = `${api.pathname}v1/`
  // Parent prefixes count: the raw URL starts with all of them.
  const routePrefix = `${scope.prefix}${options.proxyPrefix as string}/`
  const pool = new Pool(api.origin, {
    connections: 128,
    headersTimeout: options.timeout,
    bodyTimeout: options.timeout,
    connectTimeout: options.timeout
  })
  scope.addHook('onClose', async () => { await pool.close() })

  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })

  async function forward (request: FastifyRequest, path: string, token: SpotifyToken): Promise<Forwarded> {
    try {
      const response = await pool.request({
        method: request.method as Dispatcher.HttpMethod,
        path,
        headers: forwardedHeaders(request.headers, token),
        body: request.method === 'GET' || request.method === 'HEAD' ? null : request.body as Buffer | undefined ?? null
      })
      return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()) }
    } catch (cause) {
      if (TIMEOUT_CODES.has((cause as { code?: string }).code as string)) throw new UpstreamTimeoutError({ cause })
      throw new UpstreamError('the Web API could not be reached', { cause })
    }
  }

  async function handler (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const raw = request.url
    const queryAt = raw.indexOf('?')
    const rawPath = queryAt === -1 ? raw : raw.slice(0, queryAt)
    const safe = rawPath.startsWith(routePrefix) ? safeApiPath(rawPath.slice(routePrefix.length)) : undefined
    if (safe === undefined) throw new InvalidPathError()
    const path = upstreamBase + safe + (queryAt === -1 ? '' : raw.slice(queryAt))

    const sessionId = cookie.read(request, reply)
    let token = sessionId === undefined
      ? undefined
      : authenticator.freshNow(sessionId) ?? await authenticator.tokenFor(sessionId)
    if (token === undefined) throw new NoSessionError()

    let response = await forward(request, path, token)
    if (response.status === 401) {
      // Refused before its time: renew once, retry once; a second 401 goes
      // back to the client as it came.
      token = await authenticator.renew(sessionId as string, token.accessToken)
      if (token === undefined) throw new NoSessionError()
      response = await forward(request, path, token)
    }
    return reply.code(response.status).headers(returnedHeaders(response.headers)).send(response.body)
  }

  scope.all(`${options.proxyPrefix as string}/*`, handler)
}
