import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import got, { type Got, type Response, TimeoutError } from 'got'
import type { Agents } from './agents.js'
import { safeApiPath } from './api-path.js'
import type { Authenticator } from './authenticator.js'
import { InvalidPathError, NoSessionError, UpstreamError, UpstreamTimeoutError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import type { SessionCookie } from './session-cookie.js'
import type { SpotifyToken } from './store/types.js'

/** Request headers that reach Spotify; everything else (cookie, authorization, host, hop-by-hop) stays behind. */
const FORWARDED_REQUEST_HEADERS = [
  'accept', 'accept-language', 'content-type', 'content-length',
  'if-match', 'if-none-match', 'if-modified-since', 'range'
] as const

/**
 * Response headers that never come back: cookies of the upstream, hop-by-hop
 * headers, and the framing that Fastify recomputes for the decompressed body.
 */
const DROPPED_RESPONSE_HEADERS = new Set([
  'set-cookie', 'set-cookie2', 'connection', 'keep-alive', 'proxy-authenticate',
  'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-length', 'content-encoding'
])

export interface ProxyServices {
  options: ResolvedOptions
  agents: Agents
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

function returnedHeaders (upstream: IncomingHttpHeaders): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {}
  for (const name in upstream) {
    const value = upstream[name]
    if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) headers[name] = value
  }
  return headers
}

/**
 * `{ANY} {proxyPrefix}/*` → `{apiUrl}/v1/*` with the session's bearer token.
 * Registered in its own scope: the body is taken as raw bytes, whatever its
 * type, so that it is forwarded untouched and can be sent again after a 401.
 */
export async function proxyRoutes (scope: FastifyInstance, services: ProxyServices): Promise<void> {
  const { options, authenticator, cookie } = services
  const prefix = options.proxyPrefix as string
  const upstreamBase = `${options.apiUrl}/v1/`
  const client: Got = got.extend({
    timeout: { request: options.timeout },
    retry: { limit: 0 },
    followRedirect: false,
    throwHttpErrors: false,
    agent: services.agents
  })

  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })

  async function forward (request: FastifyRequest, url: string, token: SpotifyToken): Promise<Response<Buffer>> {
    try {
      return await client(url, {
        method: request.method as 'GET',
        responseType: 'buffer',
        headers: forwardedHeaders(request.headers, token),
        body: request.method === 'GET' || request.method === 'HEAD' ? undefined : request.body as Buffer | undefined
      })
    } catch (cause) {
      if (cause instanceof TimeoutError) throw new UpstreamTimeoutError({ cause })
      throw new UpstreamError('the Web API could not be reached', { cause })
    }
  }

  async function handler (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const raw = request.url
    // The route's own URL ends in `/*`: what precedes the star, parent
    // prefixes included, is what the raw URL must start with.
    const routePrefix = (request.routeOptions.url as string).slice(0, -1)
    const queryAt = raw.indexOf('?')
    const rawPath = queryAt === -1 ? raw : raw.slice(0, queryAt)
    const path = rawPath.startsWith(routePrefix) ? safeApiPath(rawPath.slice(routePrefix.length)) : undefined
    if (path === undefined) throw new InvalidPathError()
    const url = upstreamBase + path + (queryAt === -1 ? '' : raw.slice(queryAt))

    const sessionId = cookie.read(request, reply)
    let token = sessionId === undefined ? undefined : await authenticator.tokenFor(sessionId)
    if (token === undefined) throw new NoSessionError()

    let response = await forward(request, url, token)
    if (response.statusCode === 401) {
      // Refused before its time: renew once, retry once; a second 401 goes
      // back to the client as it came.
      token = await authenticator.renew(sessionId as string, token.accessToken)
      if (token === undefined) throw new NoSessionError()
      response = await forward(request, url, token)
    }
    return reply.code(response.statusCode).headers(returnedHeaders(response.headers)).send(response.rawBody)
  }

  scope.all(`${prefix}/*`, handler)
}
