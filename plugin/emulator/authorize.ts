/**
 * The rules of `GET /authorize`, shared by the HTTP route, the consent
 * form's decision and `control.authorize()`, so all three are equally strict.
 */
import { users } from './fixtures.js'
import { isInsecureRedirectUri, matchesRedirectUri } from './redirect-uri.js'
import { parseScopes, unknownScope } from './scopes.js'
import { issueCode, type Client, type EmulatorState } from './state.js'

/** The authorization request parameters the consent form carries along. */
export const AUTHORIZE_PARAMS = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'show_dialog'] as const

/** A validated authorization request. */
export interface AuthorizeRequest {
  readonly client: Client
  readonly redirectUri: string
  readonly scopes: readonly string[]
  readonly state: string | null
  readonly codeChallenge: string | undefined
  readonly showDialog: boolean
  /** The parameters as received, for the consent form's hidden fields. */
  readonly params: URLSearchParams
}

/**
 * Why a request was refused. With `redirectUri`, the refusal goes back to
 * the application (`?error=…`); without, the redirect URI itself is not
 * trusted and the user gets an error page, never a redirect.
 */
export class EmulatorAuthorizeError extends Error {
  /** The OAuth error code (`invalid_client`, `invalid_scope`, …). */
  readonly error: string
  /** Where the refusal is sent back (`?error=…&state=…`); `undefined`: an error page, no redirect. */
  readonly redirectUri: string | undefined
  /** The `state` to send back with the refusal, as the request gave it. */
  readonly state: string | null

  constructor (error: string, description: string, redirectUri?: string, state: string | null = null) {
    super(`${error}: ${description}`)
    this.name = 'EmulatorAuthorizeError'
    this.error = error
    this.redirectUri = redirectUri
    this.state = state
  }

  /** The text Spotify's own error page shows. */
  get page (): string {
    return this.message.replace(/^invalid_client/, 'INVALID_CLIENT')
  }
}

// RFC 7636: 43 to 128 unreserved characters; an S256 challenge is 43.
const CODE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/

/** Validates `/authorize` parameters; throws {@link EmulatorAuthorizeError}. */
export function validateAuthorize (state: EmulatorState, params: URLSearchParams): AuthorizeRequest {
  const client = state.clients.get(params.get('client_id') ?? '')
  if (client === undefined) throw new EmulatorAuthorizeError('invalid_client', 'Invalid client')
  const redirectUri = params.get('redirect_uri') ?? ''
  if (isInsecureRedirectUri(redirectUri)) throw new EmulatorAuthorizeError('invalid_client', 'Insecure redirect URI')
  if (!client.redirectUris.some((registered) => matchesRedirectUri(registered, redirectUri))) {
    throw new EmulatorAuthorizeError('invalid_client', 'Invalid redirect URI')
  }

  const appState = params.get('state')
  const refuse = (error: string, description: string): EmulatorAuthorizeError =>
    new EmulatorAuthorizeError(error, description, redirectUri, appState)

  if (params.get('response_type') !== 'code') throw refuse('unsupported_response_type', 'response_type must be code')
  const scopes = parseScopes(params.get('scope'))
  const unknown = unknownScope(scopes)
  if (unknown !== undefined) throw refuse('invalid_scope', `Invalid scope: ${unknown}`)

  const challenge = params.get('code_challenge')
  const method = params.get('code_challenge_method')
  if (challenge === null) {
    if (method !== null) throw refuse('invalid_request', 'code_challenge_method without code_challenge')
  } else {
    // Spotify accepts only S256; "plain" would let a stolen code be redeemed.
    if (method !== 'S256') throw refuse('invalid_request', 'code_challenge_method must be S256')
    if (!CODE_CHALLENGE.test(challenge)) throw refuse('invalid_request', 'code_challenge is malformed')
  }

  return {
    client,
    redirectUri,
    scopes,
    state: appState,
    codeChallenge: challenge ?? undefined,
    showDialog: params.get('show_dialog') === 'true',
    params
  }
}

function redirectWith (redirectUri: string, values: Record<string, string | null>): string {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(values)) {
    if (value !== null) url.searchParams.set(name, value)
  }
  return url.href
}

/** Where a refused request sends the browser: `redirect_uri?error=…&state=…`. */
export function errorRedirect (err: EmulatorAuthorizeError): string {
  return redirectWith(err.redirectUri!, { error: err.error, state: err.state })
}

/** The user agreed: a code bound to client, redirect URI, scopes and PKCE challenge. */
export function approve (state: EmulatorState, request: AuthorizeRequest, userId: string): string {
  const code = issueCode(state, {
    clientId: request.client.clientId,
    userId,
    redirectUri: request.redirectUri,
    scopes: request.scopes,
    codeChallenge: request.codeChallenge
  })
  return redirectWith(request.redirectUri, { code, state: request.state })
}

/** The user said no: `redirect_uri?error=access_denied&state=…`. */
export function deny (request: AuthorizeRequest): string {
  return redirectWith(request.redirectUri, { error: 'access_denied', state: request.state })
}

/** Whether a user id belongs to a fixture user. */
export function isUser (userId: string): boolean {
  return users.some((u) => u.id === userId)
}
