/**
 * accounts.spotify.com: `GET /authorize`, the consent form's
 * `POST /authorize/decision`, and `POST /api/token` for the
 * `authorization_code`, `refresh_token` and `client_credentials` grants.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { AUTHORIZE_PARAMS, EmulatorAuthorizeError, approve, deny, errorRedirect, isUser, validateAuthorize } from './authorize.js'
import { HTML_HEADERS, renderConsentPage, renderErrorPage } from './consent-page.js'
import { users } from './fixtures.js'
import { NO_STORE, hangUntilClose, oauthError, oauthErrorCode, oauthErrorHandler, rawQuery, statusMessage } from './http.js'
import { hang, issueAppToken, issueTokens, refreshExpiry, refreshTokens, take, type Client, type EmulatorState } from './state.js'

export interface AccountsOptions {
  state: EmulatorState
  /** The user `/authorize` approves for without a consent page, if any. */
  autoApproveUser: string | undefined
}

function form (body: unknown): URLSearchParams {
  // No body at all, or one in another format: Spotify reads only form
  // fields, so such a request simply has no parameters.
  return body instanceof URLSearchParams ? body : new URLSearchParams()
}

function refuse (reply: FastifyReply, err: unknown): FastifyReply {
  const refusal = err as EmulatorAuthorizeError
  if (refusal.redirectUri === undefined) {
    return reply.code(400).headers(HTML_HEADERS).send(renderErrorPage(refusal.page))
  }
  return reply.redirect(errorRedirect(refusal), 302)
}

function sameSecret (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

interface Credentials {
  readonly clientId: string
  /** Absent for a public (PKCE) client that sends only its id. */
  readonly secret: string | undefined
}

/**
 * The client's credentials from HTTP Basic or from the body. Malformed
 * Basic, or a body naming another client than the header, counts as no
 * authentication (RFC 6749 §2.3: one method per request).
 */
function credentials (authorization: string | undefined, body: URLSearchParams): Credentials | undefined {
  const bodyId = body.get('client_id')
  if (authorization === undefined) {
    return bodyId === null ? undefined : { clientId: bodyId, secret: body.get('client_secret') ?? undefined }
  }
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(authorization)
  if (match === null) return undefined
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1) return undefined
  const clientId = decoded.slice(0, colon)
  if (bodyId !== null && bodyId !== clientId) return undefined
  return { clientId, secret: decoded.slice(colon + 1) }
}

function s256 (verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

export const accountsRoutes: FastifyPluginAsync<AccountsOptions> = async (app, { state, autoApproveUser }) => {
  // Spotify's accounts service reads application/x-www-form-urlencoded and
  // nothing else; parsing it here keeps every other format out.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string))
  })
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => { done(null, undefined) })
  app.setErrorHandler(oauthErrorHandler)

  app.get('/authorize', async (request, reply) => {
    let auth
    try {
      auth = validateAuthorize(state, new URLSearchParams(rawQuery(request.url)))
    } catch (err) {
      return refuse(reply, err)
    }
    if (autoApproveUser !== undefined) return reply.redirect(approve(state, auth, autoApproveUser), 302)
    return reply.headers(HTML_HEADERS).send(renderConsentPage(auth, users))
  })

  app.post('/authorize/decision', async (request, reply) => {
    const body = form(request.body)
    // Only the authorization parameters travel on; the form could have been
    // tampered with, so they are validated again as on the first request.
    const params = new URLSearchParams()
    for (const name of AUTHORIZE_PARAMS) {
      const value = body.get(name)
      if (value !== null) params.set(name, value)
    }
    let auth
    try {
      auth = validateAuthorize(state, params)
    } catch (err) {
      return refuse(reply, err)
    }
    const decision = body.get('decision')
    if (decision === 'cancel') return reply.redirect(deny(auth), 302)
    const userId = body.get('user_id') ?? ''
    if (decision !== 'agree' || !isUser(userId)) {
      return reply.code(400).headers(HTML_HEADERS).send(renderErrorPage('Invalid request'))
    }
    return reply.redirect(approve(state, auth, userId), 302)
  })

  app.post('/api/token', async (request, reply) => {
    const body = form(request.body)
    const grantType = body.get('grant_type')
    if (grantType === 'authorization_code' || grantType === 'refresh_token' || grantType === 'client_credentials') {
      state.counters[grantType]++
    }

    const hold = state.tokenHolds.shift()
    if (hold !== undefined) {
      hold.arrive()
      await hold.gate
    }
    if (take(state.hangToken)) return hangUntilClose(request, reply, hang(state))
    if (take(state.failToken)) {
      const status = state.failToken.value
      return oauthError(reply, status, oauthErrorCode(status), statusMessage(status))
    }

    if (grantType === null) return oauthError(reply, 400, 'unsupported_grant_type', 'grant_type parameter is missing')
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token' && grantType !== 'client_credentials') {
      return oauthError(reply, 400, 'unsupported_grant_type', 'grant_type must be authorization_code, refresh_token or client_credentials')
    }

    const creds = credentials(request.headers.authorization, body)
    const client = creds === undefined ? undefined : state.clients.get(creds.clientId)
    if (creds === undefined || client === undefined) return oauthError(reply, 400, 'invalid_client', 'Invalid client')
    // A known client with a wrong secret gets Spotify's more precise wording.
    if (creds.secret !== undefined && !sameSecret(creds.secret, client.clientSecret)) {
      return oauthError(reply, 400, 'invalid_client', 'Invalid client secret')
    }
    const authenticated = creds.secret !== undefined

    if (grantType === 'client_credentials') {
      // An app token needs the secret: a public client has nothing to prove itself with.
      if (!authenticated) return oauthError(reply, 400, 'invalid_client', 'Invalid client')
      return reply.headers(NO_STORE).send(issueAppToken(state, client.clientId))
    }
    return grantType === 'authorization_code'
      ? exchangeCode(state, reply, body, client, authenticated)
      : refresh(state, reply, body, client, authenticated)
  })
}

function exchangeCode (state: EmulatorState, reply: FastifyReply, body: URLSearchParams, client: Client, authenticated: boolean): FastifyReply {
  const code = body.get('code')
  const redirectUri = body.get('redirect_uri')
  if (code === null) return oauthError(reply, 400, 'invalid_request', 'code must be supplied')
  if (redirectUri === null) return oauthError(reply, 400, 'invalid_request', 'redirect_uri must be supplied')

  const record = state.codes.get(code)
  if (record === undefined || record.clientId !== client.clientId) {
    return oauthError(reply, 400, 'invalid_grant', 'Invalid authorization code')
  }
  // Only a PKCE code may be redeemed without the client secret.
  if (!authenticated && record.codeChallenge === undefined) return oauthError(reply, 400, 'invalid_client', 'Invalid client')

  // Single use: any attempt by its client burns the code, a failed one too,
  // so a wrong verifier cannot be retried against the same code.
  state.codes.delete(code)
  if (state.now() >= record.expiresAt) return oauthError(reply, 400, 'invalid_grant', 'Authorization code expired')
  if (record.redirectUri !== redirectUri) return oauthError(reply, 400, 'invalid_grant', 'Invalid redirect URI')

  const verifier = body.get('code_verifier')
  if (record.codeChallenge !== undefined && verifier === null) return oauthError(reply, 400, 'invalid_request', 'code_verifier required')
  const pkceOk = record.codeChallenge === undefined
    ? verifier === null
    : s256(verifier!) === record.codeChallenge
  if (!pkceOk) return oauthError(reply, 400, 'invalid_grant', 'code_verifier was incorrect')

  return reply.headers(NO_STORE).send(issueTokens(state, {
    clientId: client.clientId,
    userId: record.userId,
    scopes: record.scopes,
    publicClient: record.codeChallenge !== undefined,
    refreshExpiresAt: refreshExpiry(state)
  }))
}

function refresh (state: EmulatorState, reply: FastifyReply, body: URLSearchParams, client: Client, authenticated: boolean): FastifyReply {
  const token = body.get('refresh_token')
  if (token === null) return oauthError(reply, 400, 'invalid_request', 'refresh_token must be supplied')
  const grant = state.refreshTokens.get(token)
  // Spotify tells a revoked token (the user removed the app's access) from
  // an expired one by the description: "Refresh token revoked".
  if (state.revokedRefreshTokens.has(token)) return oauthError(reply, 400, 'invalid_grant', 'Refresh token revoked')
  if (grant === undefined || grant.clientId !== client.clientId) {
    return oauthError(reply, 400, 'invalid_grant', 'Invalid refresh token')
  }
  if (!authenticated && !grant.publicClient) return oauthError(reply, 400, 'invalid_client', 'Invalid client')
  if (state.now() >= grant.refreshExpiresAt) {
    state.refreshTokens.delete(token)
    return oauthError(reply, 400, 'invalid_grant', 'Refresh token expired')
  }
  return reply.headers(NO_STORE).send(refreshTokens(state, token, grant))
}
