/**
 * Errors as the user sees them. The plugin hands its route errors (a
 * cancelled login, a stale callback, a revoked session…) to the app's error
 * handler, so this one handler answers every error of the demo: a readable
 * HTML page for a browser navigation, Spotify-shaped JSON for everything else.
 */
import createError from '@fastify/error'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { HTTPError } from 'got'
import { errorBody, errorCodes, type SpotifyErrorBody } from '../plugin/index.js'
import { htmlHeaders, renderError, type PageContext } from './html.js'

/** The Web API answered the demo's own call (the catalog search) with an error status. */
export const SpotifyApiError = createError<'DEMO_SPOTIFY_API_ERROR', [detail: string]>(
  'DEMO_SPOTIFY_API_ERROR', 'Spotify\'s Web API answered %s', 502)

/**
 * A login that Spotify let through, for an account the app may not use:
 * Development Mode answers 403 to every call of a user who is not on the
 * app's allow-list (or to everyone, once the owner's Premium has lapsed).
 */
export const NotOnAllowListError = createError<'DEMO_USER_NOT_ALLOWED', []>(
  'DEMO_USER_NOT_ALLOWED', 'Spotify answered 403 to the new session\'s GET /v1/me', 403)

/**
 * The plugin reads the new session's `GET /v1/me` at the callback and fails
 * the login with a 502 when Spotify refuses it: for the demo's users that
 * is the allow-list, which deserves its own page rather than "Spotify is not
 * answering properly".
 */
function allowListRefusal (error: FastifyError): boolean {
  return error.code === errorCodes.UPSTREAM_ERROR && error.message.endsWith('GET /v1/me answered 403')
}

/** No route for this method and path. */
export const PageNotFoundError = createError<'DEMO_NOT_FOUND', [what: string]>(
  'DEMO_NOT_FOUND', 'There is no page at %s', 404)

/**
 * Spotify's 403s mean different things, told apart by their body: the user
 * is not on the app's allow-list (plain text), the app's owner has no
 * Premium, or the token lacks a scope. Only the first two are about a
 * Development Mode app's dashboard settings.
 */
const FORBIDDEN_HINTS: ReadonlyArray<readonly [spotifySays: string, hint: string]> = [
  ['User not registered in the Developer Dashboard',
    'this Spotify user is not on the app\'s allow-list: a development mode app only lets in the (at most five) users listed under "User Management" in its dashboard'],
  ['Active premium subscription required for the owner of the app',
    'the app\'s owner has no active Premium subscription, which Spotify requires of an app in development mode'],
  ['Insufficient client scope',
    'the session lacks a scope this request needs: log out and in again to grant it']
]

function bodyText (body: unknown): string {
  return Buffer.isBuffer(body) ? body.toString('utf8') : String(body)
}

/** The error of a failed `request.spotify.api` call, as the demo reports it. */
export function apiFailure (err: unknown): unknown {
  if (!(err instanceof HTTPError)) return err
  const status = err.response.statusCode
  if (status !== 403) return new SpotifyApiError(`HTTP ${status}`)
  const text = bodyText(err.response.body)
  const hint = FORBIDDEN_HINTS.find(([says]) => text.includes(says))?.[1] ?? 'Spotify refused the request'
  return new SpotifyApiError(`HTTP 403: ${hint}`)
}

/** The demo's own codes are written to be shown, like the plugin's. */
const DEMO_CODE = /^DEMO_/

/** Title and explanation of the errors a user can run into. */
const EXPLANATIONS: Record<string, readonly [title: string, text: string]> = {
  FST_SPOTIFY_AUTHORIZATION_DENIED: ['Login cancelled',
    'Spotify did not give this app access to your account, for example because Cancel was pressed on the consent page. Nothing was stored.'],
  FST_SPOTIFY_INVALID_STATE: ['This login link is no longer valid',
    'The address Spotify sent you back to does not belong to a login in progress in this browser: it was used already, is more than ten minutes old, or was opened in another browser.'],
  FST_SPOTIFY_MISSING_CODE: ['The login did not finish',
    'Spotify sent you back without an authorization code.'],
  FST_SPOTIFY_INVALID_CODE: ['Spotify refused the login',
    'The authorization code was already used, has expired, or does not match this app.'],
  FST_SPOTIFY_SESSION_REVOKED: ['Your Spotify session has ended',
    'Spotify no longer accepts this session: access was removed from your Spotify account, or the session is too old. You are logged out.'],
  FST_SPOTIFY_NO_SESSION: ['You are not logged in',
    'This page needs a Spotify session.'],
  FST_SPOTIFY_UPSTREAM_ERROR: ['Spotify is not answering properly',
    'Spotify could not be reached or answered with an error. Your session is kept: try again in a moment.'],
  FST_SPOTIFY_UPSTREAM_TIMEOUT: ['Spotify is taking too long',
    'Spotify did not answer in time. Your session is kept: try again in a moment.'],
  FST_SPOTIFY_STORE_UNAVAILABLE: ['Sessions are unavailable',
    'The session store cannot be reached. Nothing is lost: try again in a moment.'],
  DEMO_USER_NOT_ALLOWED: ['This Spotify account is not on the app\'s allow-list',
    'Spotify let this account log in, but refuses the app\'s requests for it. An app in Development Mode only serves the users on its allow-list: at most five, added under "User Management" in the app\'s dashboard. Add this account there, or log in with one that is listed. (Spotify also refuses everyone while the app owner\'s Premium subscription has lapsed.)'],
  DEMO_SPOTIFY_API_ERROR: ['Spotify refused a request',
    'The Web API answered the demo\'s request with an error.'],
  DEMO_NOT_FOUND: ['Page not found',
    'The demo has no page at this address.']
}

/** Whether the client is a browser navigating (rather than a script or an API client). */
export function wantsHtml (request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html')
}

/** The plugin's rule for what may be shown of an error, with the demo's own codes shown too. */
export function demoErrorBody (error: FastifyError): SpotifyErrorBody['error'] {
  return errorBody(error, (code) => DEMO_CODE.test(code))
}

/** The app's error handler; `context` gives the page context of a response. */
export function demoErrorHandler (context: () => PageContext) {
  return function handleDemoError (raised: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const error = allowListRefusal(raised) ? new NotOnAllowListError() : raised
    const body = demoErrorBody(error)
    if (body.status >= 500) {
      request.log.error({ err: error }, 'request failed')
    } else {
      request.log.info({ code: body.code, status: body.status }, `request refused: ${body.message}`)
    }
    reply.code(body.status)
    if (!wantsHtml(request)) return reply.type('application/json; charset=utf-8').send({ error: body })
    const [title, text] = EXPLANATIONS[body.code] ?? (body.status < 500
      ? ['The request could not be handled', 'The demo could not do what was asked.']
      : ['Something went wrong', 'The demo ran into an error; it has been logged.'])
    const page = context()
    return reply.headers(htmlHeaders(page)).send(renderError(page, { ...body, title, text }))
  }
}
