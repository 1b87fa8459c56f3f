import { timingSafeEqual } from 'node:crypto'
import fastifyOAuth2, { type OAuth2Namespace } from '@fastify/oauth2'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  AuthorizationDeniedError, InvalidCodeError, InvalidOptionError, InvalidStateError, MissingCodeError
} from '../errors.js'
import { summaryOf } from '../failures.js'
import type { ResolvedOptions } from '../options.js'
import { prefixedName } from '../session/cookie.js'
import type { Sessions } from '../session/sessions.js'
import type { SpotifyToken } from '../store/types.js'
import type { SpotifyUser } from '../accounts/profile.js'
import { userAgentFamily } from '../session/user-agent.js'
import { sendLandingPage } from './landing-page.js'
import { routeSchema } from './schemas.js'
import { clientRefused, TokenRefusedError, type Grant, type TokenEndpoint } from '../accounts/token-endpoint.js'

/** Cookies that live only between the login redirect and the callback (`__Host-` when secure). */
export const FLOW_COOKIES = {
  state: 'spotify_auth_state',
  verifier: 'spotify_auth_verifier',
  returnTo: 'spotify_auth_return'
} as const

type FlowCookie = keyof typeof FLOW_COOKIES

const FLOW_MAX_AGE = 10 * 60
const DECORATION = 'spotifyOAuth2'

export interface LoginServices {
  options: ResolvedOptions
  endpoint: TokenEndpoint
  sessions: Sessions
  /** `GET /v1/me` with a new token. */
  profileOf: (accessToken: string) => Promise<SpotifyUser>
}

/** The base against which `returnTo` is resolved: any origin works, only a change of it matters. */
const RETURN_BASE = 'http://return.invalid'

/**
 * A same-origin path to go back to after login, or `undefined`. Anything a
 * browser could read as another origin (`//x`, `/\x`, `https://x`,
 * `javascript:`) is refused, not repaired, and so is a path with dot
 * segments, raw or encoded (`/.//x` resolves to `//x`): the value is checked
 * the way a browser's URL parser will read it.
 */
export function safeReturnTo (value: unknown): string | undefined {
  // Printable ASCII only: anything else (controls, spaces, non-Latin-1) could
  // not even go out in a Location header; encode it in the link instead.
  if (typeof value !== 'string' || value.length > 2048 || !/^\/[\x21-\x7e]*$/.test(value) || value.includes('\\')) return undefined
  const path = value.split(/[?#]/, 1)[0] as string
  if (path.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) return undefined
  return new URL(value, RETURN_BASE).origin === RETURN_BASE ? value : undefined
}

/**
 * The scopes a login asks for: the configured ones, plus those of
 * `?scope=` (space-separated) that `optionalScopes` allows. Anything else in
 * it is ignored, not refused: the link may be older than the configuration.
 */
export function loginScopes (query: unknown, options: ResolvedOptions): string[] {
  if (typeof query !== 'string' || options.optionalScopes.length === 0) return options.scopes
  const asked = new Set(query.split(' '))
  return [...options.scopes, ...options.optionalScopes.filter((scope) => asked.has(scope))]
}

function sameState (query: unknown, cookie: string | undefined): boolean {
  if (typeof query !== 'string' || cookie === undefined) return false
  const a = Buffer.from(query)
  const b = Buffer.from(cookie)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Only the OAuth error code is echoed, and only when it looks like one. */
function errorCodeOf (value: unknown): string {
  return typeof value === 'string' && /^[a-z_]{1,64}$/.test(value) ? value : 'unknown_error'
}

/**
 * The request log of the callback would print `?code=…&state=…`: Fastify logs
 * the URL as it came. This serializer keeps the path and drops the query.
 */
export function redactedRequest (request: FastifyRequest): Record<string, unknown> {
  const queryAt = request.url.indexOf('?')
  return {
    method: request.method,
    url: queryAt === -1 ? request.url : request.url.slice(0, queryAt) + '?[redacted]',
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket.remotePort
  }
}

// The callback's request line carries the code: its log lines use
// redactedRequest. Fastify 5 and 6 both apply a route's logSerializers (6's
// Routes.md documents it), but 6.0.0-alpha.4's route option types no longer
// declare it; spread from a constant, it type-checks against both.
const REDACTED_LOGS = { logSerializers: { req: redactedRequest } }

/** `GET {loginPath}` and `GET {callback path}`. */
export async function loginRoutes (scope: FastifyInstance, services: LoginServices): Promise<void> {
  const { options, endpoint, sessions, profileOf } = services
  const accounts = new URL(options.accountsUrl + '/')
  const flowCookie = {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: options.cookie.secure
  }
  const names = Object.fromEntries(Object.entries(FLOW_COOKIES)
    .map(([key, name]) => [key, prefixedName(name, options.cookie.secure, undefined)])) as Record<FlowCookie, string>

  // @fastify/oauth2 builds the authorize URL and owns the state and PKCE
  // verifier cookies. The code exchange goes through our own token endpoint
  // client instead, so that both grants share one timeout and error mapping.
  await scope.register(fastifyOAuth2, {
    name: DECORATION,
    credentials: {
      client: { id: options.clientId, secret: options.clientSecret },
      auth: {
        authorizeHost: accounts.origin,
        authorizePath: `${accounts.pathname}authorize`,
        tokenHost: accounts.origin,
        tokenPath: `${accounts.pathname}api/token`
      }
    },
    callbackUri: options.redirectUri,
    callbackUriParams: options.showDialog ? { show_dialog: 'true' } : {},
    scope: options.scopes,
    ...(options.pkce ? { pkce: 'S256' as const } : {}),
    redirectStateCookieName: names.state,
    verifierCookieName: names.verifier,
    // Its default leaves Path unset, so the cookie would not reach a callback
    // outside the login path's directory.
    cookie: { ...flowCookie, maxAge: FLOW_MAX_AGE }
  })
  const oauth2 = (scope as unknown as Record<string, OAuth2Namespace>)[DECORATION] as OAuth2Namespace

  scope.get(options.loginPath, {
    schema: routeSchema('login', options)
  }, async (request: FastifyRequest<{ Querystring: { returnTo?: unknown, scope?: unknown } }>, reply) => {
    const authorizeUrl = new URL(await oauth2.generateAuthorizationUri(request, reply))
    const scopes = loginScopes(request.query.scope, options)
    // simple-oauth2 would send `scope=undefined` for no scopes.
    if (scopes.length === 0) {
      authorizeUrl.searchParams.delete('scope')
    } else if (scopes.length > options.scopes.length) {
      // Only then: setting a parameter re-encodes the whole query.
      authorizeUrl.searchParams.set('scope', scopes.join(' '))
    }
    const returnTo = safeReturnTo(request.query.returnTo)
    if (returnTo === undefined) {
      reply.clearCookie(names.returnTo, flowCookie)
    } else {
      reply.setCookie(names.returnTo, returnTo, { ...flowCookie, maxAge: FLOW_MAX_AGE })
    }
    return reply.redirect(authorizeUrl.href, 302)
  })

  async function exchange (code: string, verifier: string | undefined): Promise<Grant> {
    try {
      return await endpoint.exchangeCode(code, verifier)
    } catch (err) {
      if (!(err instanceof TokenRefusedError)) throw err
      if (err.error === 'invalid_grant' || err.error === 'invalid_request') {
        throw new InvalidCodeError(err.error, { cause: summaryOf(err) })
      }
      throw clientRefused(err)
    }
  }

  type CallbackQuery = { state?: unknown, code?: unknown, error?: unknown }
  // The callback's path is absolute (Spotify redirects to the exact URI),
  // while routes get the prefix the plugin is registered under.
  const prefix = scope.prefix
  if (prefix !== '' && !options.callbackPath.startsWith(prefix + '/')) {
    throw new InvalidOptionError(`options.redirectUri path ${options.callbackPath} must be under ${prefix}, the prefix the plugin is registered under`)
  }
  scope.get(options.callbackPath.slice(prefix.length), {
    schema: routeSchema('callback', options),
    ...REDACTED_LOGS
  }, async (request: FastifyRequest<{ Querystring: CallbackQuery }>, reply: FastifyReply) => {
    const { state, code, error } = request.query
    const verifier = request.cookies[names.verifier]
    const returnTo = safeReturnTo(request.cookies[names.returnTo])
    // A callback whose state is not this browser's login in progress (an
    // older tab, a cross-site link) leaves that login alone.
    if (!sameState(state, request.cookies[names.state])) throw new InvalidStateError()
    // This login's callback: single use, whatever the outcome from here.
    for (const name of Object.values(names)) reply.clearCookie(name, flowCookie)

    if (error !== undefined) throw new AuthorizationDeniedError(errorCodeOf(error))
    if (typeof code !== 'string' || code === '') throw new MissingCodeError()
    if (options.pkce && verifier === undefined) throw new InvalidStateError()

    const grant = await exchange(code, options.pkce ? verifier : undefined)
    // Whose token this is: the session is filed under the Spotify user.
    const user = await profileOf(grant.accessToken)
    const token: SpotifyToken = {
      userId: user.id,
      ...(user.accountId === undefined ? {} : { accountId: user.accountId }),
      displayName: typeof user.display_name === 'string' ? user.display_name : null,
      userAgent: userAgentFamily(request.headers['user-agent']),
      ...grant
    }
    const onLogin = options.onLogin
    await sessions.begin(request, reply, token, (sessionId) => onLogin?.(request, { sessionId, token, user }))
    const to = returnTo ?? options.successRedirect
    // A Strict cookie is not sent along the rest of Spotify's cross-site
    // navigation: a page of the app's own starts a same-site one.
    return options.cookie.sameSite === 'strict' ? sendLandingPage(reply, to) : reply.redirect(to, 302)
  })
}
