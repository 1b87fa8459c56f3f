import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { CrossSiteRequestError, InvalidPathError } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import type { RequestSession, Sessions } from '../session/sessions.js'
import type { SpotifyToken } from '../store/types.js'
import type { WebApiAnswer } from '../web-api/call.js'
import type { WebApiPolicy } from '../web-api/policy.js'
import type { WebApiTarget, WebApiUrlRule } from '../web-api/url-rule.js'
import { privateCacheControl, varyWithCookie, weakened } from './proxy-caching.js'
import { forwardedHeaders, returnedHeaders } from './proxy-headers.js'
import { linkRewriter, rewritable, type LinkRewriter } from './proxy-links.js'
import type { RequestGuard } from './required-header.js'
import { fromAllowedOrigin, UNSAFE_METHODS } from './same-origin.js'
import { routeSchema } from './schemas.js'

export interface ProxyServices {
  options: ResolvedOptions
  sessions: Sessions
  /** The one rule for calling the Web API: window, bearer, renewal after a 401, failures. */
  policy: WebApiPolicy
  rule: WebApiUrlRule
  /** Runs first on every proxied request (the `requireHeader` check). */
  guard: RequestGuard
}

const kTarget = Symbol('fastify-spotify-auth.proxy-target')
const kToken = Symbol('fastify-spotify-auth.proxy-token')

/** What `checkBeforeBody` leaves on a request with a body for its handler. */
interface Checked {
  [kTarget]: WebApiTarget | null
  [kToken]: SpotifyToken | null
}

/**
 * `{ANY} {proxyPrefix}/*` → `{apiUrl}/v1/*` with the session's bearer
 * token, through the call policy (`web-api/policy.ts`): this module only
 * turns a browser's request into a call and Spotify's answer into a reply.
 *
 * A request with a body (POST, PUT, PATCH, DELETE) has its path, origin,
 * the rate-limit window and its session checked in `onRequest`, before a
 * byte of the body is read: a request that will be refused costs no memory.
 * GET and HEAD, the hot path, have nothing to read and are checked in their
 * handler. Registered in its own scope: the body is taken as raw bytes,
 * whatever its type, so that it is forwarded untouched and can be sent again
 * after a 401.
 */
export async function proxyRoutes (scope: FastifyInstance, services: ProxyServices): Promise<void> {
  const { options, sessions, policy, rule, guard } = services
  // Parent prefixes count: the raw URL starts with all of them.
  const routePrefix = `${scope.prefix}${options.proxyPrefix as string}/`
  const rewrite: LinkRewriter | undefined = options.proxyRewriteLinks ? linkRewriter(`${options.apiUrl}/v1/`, routePrefix) : undefined

  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
  scope.decorateRequest(kTarget, null)
  scope.decorateRequest(kToken, null)

  function targetOf (request: FastifyRequest): WebApiTarget {
    const raw = request.url
    const queryAt = raw.indexOf('?')
    const rawPath = queryAt === -1 ? raw : raw.slice(0, queryAt)
    const target = rawPath.startsWith(routePrefix)
      ? rule.relative(rawPath.slice(routePrefix.length), queryAt === -1 ? '' : raw.slice(queryAt))
      : undefined
    if (target === undefined) throw new InvalidPathError()
    return target
  }

  /** `onRequest` of a request with a body: path, origin, window and session before a byte of it is read. */
  function checkBeforeBody (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const checked = request as unknown as Checked
    try {
      guard(request)
      checked[kTarget] = targetOf(request)
      if (!fromAllowedOrigin(request, options.allowedOrigins)) throw new CrossSiteRequestError()
      const blocked = policy.blocked()
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

  function forward (request: FastifyRequest, session: RequestSession, target: WebApiTarget, token?: SpotifyToken): Promise<WebApiAnswer> {
    return policy.call(session, {
      // With links to rewrite, a HEAD's length is that of the rewritten
      // GET: ask for the body, which Node leaves out of the HEAD answer.
      method: request.method === 'HEAD' && rewrite !== undefined ? 'GET' : request.method,
      target,
      headers: forwardedHeaders(request.headers),
      body: request.method === 'GET' || request.method === 'HEAD' ? null : request.body as Buffer | undefined ?? null
    }, token === undefined ? undefined : { token })
  }

  /** GET and HEAD have no body to spare: their checks run here, without a hook. */
  async function forwardRead (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    guard(request)
    const target = targetOf(request)
    return replyWith(request, reply, await forward(request, sessions.of(request, reply), target))
  }

  async function forwardWrite (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const checked = request as unknown as Checked
    return replyWith(request, reply, await forward(request, sessions.of(request, reply), checked[kTarget] as WebApiTarget, checked[kToken] as SpotifyToken))
  }

  function replyWith (request: FastifyRequest, reply: FastifyReply, answer: WebApiAnswer): FastifyReply {
    // A 206's Content-Range counts the upstream's bytes: its part stays as it came.
    const rewritten = rewrite !== undefined && answer.status !== 206 && rewritable(answer.headers['content-type'], answer.headers['content-encoding'])
      ? rewrite(answer.body)
      : undefined
    const headers = returnedHeaders(answer.headers)
    // A HEAD answer has no body to measure: it keeps the length of the GET.
    const length = answer.headers['content-length']
    if (request.method === 'HEAD' && rewrite === undefined && length !== undefined) headers['content-length'] = length
    // Never shared-cacheable (proxy-caching.ts): a cookie chose this answer.
    headers['cache-control'] = privateCacheControl(headers['cache-control'])
    // The app's own Vary (@fastify/cors adds Origin) must survive the Web
    // API's, or a shared cache hands one origin's CORS answer to another.
    headers.vary = varyWithCookie(reply.getHeader('vary'), headers.vary)
    if (rewritten !== undefined && headers.etag !== undefined) headers.etag = weakened(headers.etag) as string
    return reply.code(answer.status).headers(headers).send(rewritten ?? answer.body)
  }

  // The Web API's methods only: TRACE would echo our bearer back to the
  // client from an upstream that supports it.
  const url = `${options.proxyPrefix as string}/*`
  scope.route({ method: ['GET', 'HEAD'], url, schema: routeSchema('proxyRead', options), handler: forwardRead })
  scope.route({ method: [...UNSAFE_METHODS], url, schema: routeSchema('proxyWrite', options), bodyLimit: options.proxyBodyLimit, onRequest: checkBeforeBody, handler: forwardWrite })
}
