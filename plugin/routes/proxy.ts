import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { Pool, type Dispatcher } from 'undici'
import { CrossSiteRequestError, InvalidPathError, UpstreamTooLargeError } from '../errors.js'
import { upstreamFailure } from '../failures.js'
import type { ResolvedOptions } from '../options.js'
import type { Sessions } from '../session/sessions.js'
import { safeApiPath } from '../spotify/api-path.js'
import type { RateLimitGate } from '../spotify/rate-limit.js'
import { linkRewriter, rewritable, type LinkRewriter } from './proxy-links.js'
import { fromAllowedOrigin, UNSAFE_METHODS } from './same-origin.js'
import { routeSchema } from './schemas.js'
import type { SpotifyToken } from '../store/types.js'

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
 * Response headers that come back: what describes the body, caching and
 * rate limits. Everything else (the upstream's cookies, hop-by-hop headers,
 * its origin-wide policies such as HSTS, Alt-Svc or CORS) stays behind.
 * `content-length` is set again by Fastify for the same bytes.
 */
const RETURNED_RESPONSE_HEADERS = [
  'content-type', 'content-language', 'content-range', 'accept-ranges',
  'cache-control', 'etag', 'last-modified', 'expires', 'vary', 'age',
  'retry-after', 'location', 'www-authenticate'
] as const

export interface ProxyServices {
  options: ResolvedOptions
  sessions: Sessions
  gate: RateLimitGate
}

function forwardedHeaders (incoming: IncomingHttpHeaders, token: SpotifyToken): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${token.accessToken}` }
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = incoming[name]
    if (typeof value === 'string') headers[name] = value
  }
  return headers
}

/**
 * Proxied responses come from the app's origin with the upstream's content
 * type: a browser must neither sniff them into something else nor run them
 * as a page of the app.
 */
const SANDBOX = "default-src 'none'; frame-ancestors 'none'; sandbox"

function returnedHeaders (upstream: Dispatcher.ResponseData['headers'], headLength: boolean): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = { 'x-content-type-options': 'nosniff', 'content-security-policy': SANDBOX }
  for (const name of RETURNED_RESPONSE_HEADERS) {
    const value = upstream[name]
    if (value !== undefined) headers[name] = value
  }
  // A HEAD answer has no body to measure: keep the length of the GET.
  const length = upstream['content-length']
  if (headLength && length !== undefined) headers['content-length'] = length
  return headers
}

interface Forwarded {
  status: number
  headers: Dispatcher.ResponseData['headers']
  body: Buffer
}

const kTarget = Symbol('fastify-spotify-auth.proxy-target')
const kToken = Symbol('fastify-spotify-auth.proxy-token')

interface Checked {
  [kTarget]: string | null
  [kToken]: SpotifyToken | null
}

/**
 * Stops reading `body`. Destroyed before its end, undici's body emits an
 * abort error: with nobody left to listen, that would be an uncaught
 * exception (a small body that arrived whole before the check, say).
 */
function discard (body: Dispatcher.ResponseData['body']): void {
  body.on('error', ignore)
  body.destroy()
}

function ignore (): void {}

/** The whole body, or a 502 past `limit` bytes (announced or counted), without reading further. */
async function bodyWithin (body: Dispatcher.ResponseData['body'], announced: string | string[] | undefined, limit: number): Promise<Buffer> {
  if (typeof announced === 'string') {
    if (Number(announced) > limit) {
      discard(body)
      throw new UpstreamTooLargeError()
    }
    // The usual case (the Web API announces its length): read it at once.
    return Buffer.from(await body.arrayBuffer())
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > limit) {
      discard(body)
      throw new UpstreamTooLargeError()
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, size)
}

/**
 * `{ANY} {proxyPrefix}/*` → `{apiUrl}/v1/*` with the session's bearer token.
 *
 * Forwarded with undici, not got: got normalises ~40 options per request,
 * which made this path 3× slower than @fastify/http-proxy (bench/README.md);
 * undici's pool, which @fastify/http-proxy itself uses, keeps up. got stays
 * the client of `request.spotify.api` and of the token endpoint.
 *
 * A request with a body (POST, PUT, PATCH, DELETE) has its path, origin and
 * session checked in `onRequest`, before a byte of the body is read: a
 * request that will be refused costs no memory. GET and HEAD, the hot path,
 * have nothing to read and are checked in their handler. Registered in its own scope: the body is taken
 * as raw bytes, whatever its type, so that it is forwarded untouched and can
 * be sent again after a 401.
 */
export async function proxyRoutes (scope: FastifyInstance, services: ProxyServices): Promise<void> {
  const { options, sessions, gate } = services
  const api = new URL(options.apiUrl + '/')
  const upstreamBase = `${api.pathname}v1/`
  // Parent prefixes count: the raw URL starts with all of them.
  const routePrefix = `${scope.prefix}${options.proxyPrefix as string}/`
  const rewrite: LinkRewriter | undefined = options.proxyRewriteLinks ? linkRewriter(`${options.apiUrl}/v1/`, routePrefix) : undefined
  const pool = new Pool(api.origin, {
    connections: 128,
    headersTimeout: options.timeout,
    bodyTimeout: options.timeout,
    connectTimeout: options.timeout
  })
  scope.addHook('onClose', async () => { await pool.close() })

  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
  scope.decorateRequest(kTarget, null)
  scope.decorateRequest(kToken, null)

  function target (request: FastifyRequest): string {
    const raw = request.url
    const queryAt = raw.indexOf('?')
    const rawPath = queryAt === -1 ? raw : raw.slice(0, queryAt)
    const safe = rawPath.startsWith(routePrefix) ? safeApiPath(rawPath.slice(routePrefix.length)) : undefined
    if (safe === undefined) throw new InvalidPathError()
    return upstreamBase + safe + (queryAt === -1 ? '' : raw.slice(queryAt))
  }

  /**
   * The checks of a request with a body (POST, PUT, PATCH, DELETE), in
   * `onRequest`: path, origin and session before a byte of the body is read.
   */
  function check (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const checked = request as unknown as Checked
    try {
      checked[kTarget] = target(request)
      if (!fromAllowedOrigin(request, options.allowedOrigins)) throw new CrossSiteRequestError()
      const blocked = gate.blocked()
      if (blocked !== undefined) throw blocked
    } catch (err) {
      done(err as Error)
      return
    }
    sessions.of(request, reply).required().then((token) => {
      checked[kToken] = token
      done()
    }, done)
  }

  async function forward (request: FastifyRequest, path: string, token: SpotifyToken): Promise<Forwarded> {
    let response: Dispatcher.ResponseData
    try {
      response = await pool.request({
        // With links to rewrite, a HEAD's length is that of the rewritten
        // GET: ask for the body, which Node leaves out of the HEAD answer.
        method: (request.method === 'HEAD' && rewrite !== undefined ? 'GET' : request.method) as Dispatcher.HttpMethod,
        path,
        headers: forwardedHeaders(request.headers, token),
        body: request.method === 'GET' || request.method === 'HEAD' ? null : request.body as Buffer | undefined ?? null
      })
    } catch (cause) {
      throw upstreamFailure(cause, 'the Web API')
    }
    // Passed on as it came, and every instance sharing the store waits it out.
    if (response.statusCode === 429) await gate.observe(response.headers['retry-after'])
    try {
      return { status: response.statusCode, headers: response.headers, body: await bodyWithin(response.body, response.headers['content-length'], options.proxyResponseLimit) }
    } catch (cause) {
      if (cause instanceof UpstreamTooLargeError) throw cause
      throw upstreamFailure(cause, 'the Web API')
    }
  }

  /** GET and HEAD have no body to spare: their checks run here, without a hook. */
  async function read (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const path = target(request)
    // Before the session: a call that cannot go out costs no store read.
    const blocked = gate.blocked()
    if (blocked !== undefined) throw blocked
    return await answer(request, reply, path, await sessions.of(request, reply).required())
  }

  function write (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const checked = request as unknown as Checked
    return answer(request, reply, checked[kTarget] as string, checked[kToken] as SpotifyToken)
  }

  async function answer (request: FastifyRequest, reply: FastifyReply, path: string, token: SpotifyToken): Promise<FastifyReply> {
    let response = await forward(request, path, token)
    if (response.status === 401) {
      // Refused before its time: renew once, retry once; a second 401 goes
      // back to the client as it came, and so does a 401 to a token too
      // young to be refreshed again.
      const renewed = await sessions.of(request, reply).renewed(token.accessToken)
      if (renewed.accessToken !== token.accessToken) response = await forward(request, path, renewed)
    }
    // A 206's Content-Range counts the upstream's bytes: its part stays as it came.
    const body = rewrite !== undefined && response.status !== 206 && rewritable(response.headers['content-type'], response.headers['content-encoding'])
      ? rewrite(response.body) ?? response.body
      : response.body
    const headers = returnedHeaders(response.headers, request.method === 'HEAD' && rewrite === undefined)
    // The app's own Vary (@fastify/cors adds Origin) must survive the Web
    // API's, or a shared cache hands one origin's CORS answer to another.
    const own = reply.getHeader('vary')
    if (own !== undefined && headers.vary !== undefined) headers.vary = `${String(own)}, ${String(headers.vary)}`
    return reply.code(response.status).headers(headers).send(body)
  }

  // The Web API's methods only: TRACE would echo our bearer back to the
  // client from an upstream that supports it.
  const url = `${options.proxyPrefix as string}/*`
  scope.route({ method: ['GET', 'HEAD'], url, schema: routeSchema('proxyRead', options), handler: read })
  scope.route({ method: [...UNSAFE_METHODS], url, schema: routeSchema('proxyWrite', options), bodyLimit: options.proxyBodyLimit, onRequest: check, handler: write })
}
