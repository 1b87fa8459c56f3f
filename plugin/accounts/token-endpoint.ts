import got, { type Got, type Response } from 'got'
import { LruMap } from 'toad-cache'
import { UpstreamError } from '../errors.js'
import { summaryOf, upstreamFailure } from '../failures.js'
import type { SpotifyToken } from '../store/types.js'
import type { Agents } from './agents.js'

/**
 * Spotify's token endpoint refused a grant with an OAuth error. Decisions go by
 * `error` (the OAuth code), never by the description: Spotify rewords those.
 */
export class TokenRefusedError extends Error {
  readonly error: string
  readonly status: number
  /** Spotify's `error_description` (at most 200 characters), for logs: decisions go by `error`. */
  readonly description: string | undefined

  constructor (error: string, status: number, description?: string) {
    super(`Spotify's token endpoint refused the grant: ${error}`)
    this.name = 'TokenRefusedError'
    this.error = error
    this.status = status
    this.description = description
  }
}

/**
 * A refusal that is not about the grant (invalid_client, unauthorized_client…):
 * the server's configuration is wrong, not the user's code or session.
 */
export function clientRefused (err: TokenRefusedError): InstanceType<typeof UpstreamError> {
  return new UpstreamError(`the token endpoint refused the client (${err.error})`, { cause: summaryOf(err) })
}

export interface TokenEndpointOptions {
  accountsUrl: string
  clientId: string
  clientSecret: string
  redirectUri: string
  timeout: number
  agents: Agents
  /** Stored when a code response lacks `scope` (Spotify always sends it). */
  scopes: readonly string[]
}

/** The two grants the plugin needs from `{accountsUrl}/api/token`. */
export interface TokenEndpoint {
  /** Exchanges an authorization code; `codeVerifier` when PKCE was used. */
  exchangeCode (code: string, codeVerifier: string | undefined): Promise<Grant>
  /** Refreshes `token`, keeping its refresh token when Spotify sends none. */
  refresh (token: SpotifyToken): Promise<SpotifyToken>
  /** An app token (Client Credentials grant): no user, catalog calls only. */
  clientCredentials (): Promise<AppToken>
}

/** A code exchange's token, before the login learns whose it is. */
export type Grant = Omit<SpotifyToken, keyof SessionFields>

/** What a login learns besides the grant: the user, and the browser. */
export type SessionFields = Pick<SpotifyToken, 'userId' | 'accountId' | 'displayName' | 'userAgent'>

/** An app-only access token (Client Credentials): it acts for no user. */
export interface AppToken {
  /** The bearer token for the Web API, acting as the app. */
  readonly accessToken: string
  /** Unix time in seconds. */
  readonly expiresAt: number
}

/** A successful response of `{accountsUrl}/api/token`. */
export interface TokenResponse {
  access_token: string
  expires_in: number
  refresh_token?: string
  scope?: string
}

function isTokenResponse (body: unknown): body is TokenResponse {
  const b = body as Partial<TokenResponse> | null
  return typeof b === 'object' && b !== null &&
    typeof b.access_token === 'string' && b.access_token.length > 0 &&
    typeof b.expires_in === 'number' && b.expires_in > 0 &&
    (b.refresh_token === undefined || typeof b.refresh_token === 'string') &&
    (b.scope === undefined || typeof b.scope === 'string')
}

/**
 * Granted scopes, as one shared frozen array per distinct scope string: every
 * session of an app has the same few, and a copy each would cost more memory
 * than the tokens themselves. Bounded, least recently used first out: a
 * token endpoint inventing scope strings cannot grow it forever.
 */
const scopeLists = new LruMap<readonly string[]>(256)

/** The scope list of a token response's `scope`, shared with every other token that has the same. */
export function scopeList (scope: string): readonly string[] {
  let list = scopeLists.get(scope)
  if (list === undefined) {
    list = Object.freeze(scope.split(' ').filter(Boolean))
    scopeLists.set(scope, list)
  }
  return list
}

function parseJson (body: string): unknown {
  try {
    return JSON.parse(body)
  } catch {
    return undefined
  }
}

function oauthDescriptionOf (body: unknown): string | undefined {
  const description = (body as { error_description?: unknown } | undefined)?.error_description
  return typeof description === 'string' ? description.slice(0, 200) : undefined
}

function oauthErrorOf (body: unknown): string | undefined {
  const error = (body as { error?: unknown } | undefined)?.error
  return typeof error === 'string' && /^[\w.-]{1,64}$/.test(error) ? error : undefined
}

/** How long Spotify accepts a refresh token, from the user's authorization. */
export const REFRESH_TOKEN_MONTHS = 6

/** `authorizedAt` plus six calendar months, as Spotify counts them: Unix seconds. */
export function refreshTokenExpiry (authorizedAt: number): number {
  const date = new Date(authorizedAt * 1000)
  date.setUTCMonth(date.getUTCMonth() + REFRESH_TOKEN_MONTHS)
  return Math.floor(date.getTime() / 1000)
}

/**
 * What a refresh keeps of the session as it is: who the user is and what
 * the login learnt of them and of the browser (`userId`, `accountId`,
 * `displayName`, `userAgent`), never the previous token's own fields nor
 * the refresh bookkeeping (`refreshStartedAt`, `refreshRefused`).
 */
function sessionFields (token: SpotifyToken): SessionFields {
  const { userId, accountId, displayName, userAgent } = token
  return {
    userId,
    ...(accountId === undefined ? {} : { accountId }),
    ...(displayName === undefined ? {} : { displayName }),
    ...(userAgent === undefined ? {} : { userAgent })
  }
}

/** What a token response leaves out and the previous token (or the login) provides. */
interface Carried {
  refreshToken: string
  scope: readonly string[]
  refreshes: number
  authorizedAt: number
}

/**
 * The stored token for a token response: the refresh token and scope fall
 * back to the previous ones when Spotify leaves them out, and the time of
 * the user's authorization carries over (a refresh does not extend the
 * refresh token's life).
 */
export function tokenFromResponse (body: TokenResponse, carried: Carried): Grant {
  const obtainedAt = Math.floor(Date.now() / 1000)
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token ?? carried.refreshToken,
    expiresAt: obtainedAt + Math.floor(body.expires_in),
    scope: body.scope === undefined ? carried.scope : scopeList(body.scope),
    obtainedAt,
    refreshes: carried.refreshes,
    authorizedAt: carried.authorizedAt,
    refreshTokenExpiresAt: refreshTokenExpiry(carried.authorizedAt)
  }
}

/**
 * Token calls go through `got`, like every other upstream call, so that one
 * timeout, one keep-alive agent and one error mapping serve both grants.
 * Nothing here retries: a refresh token may be single-use (rotation), and a
 * blind retry of a request that did reach Spotify could burn it.
 */
export function createTokenEndpoint (options: TokenEndpointOptions): TokenEndpoint {
  const basic = 'Basic ' + Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')
  const tokenUrl = `${options.accountsUrl}/api/token`
  const client: Got = got.extend({
    method: 'POST',
    headers: { authorization: basic, accept: 'application/json' },
    timeout: { request: options.timeout },
    retry: { limit: 0 },
    followRedirect: false,
    throwHttpErrors: false,
    agent: options.agents
  })

  async function grant (form: Record<string, string>): Promise<TokenResponse> {
    let response: Response<string>
    try {
      response = await client(tokenUrl, { form })
    } catch (cause) {
      throw upstreamFailure(cause, 'the token endpoint')
    }
    const body = parseJson(response.body)
    if (response.statusCode === 200 && isTokenResponse(body)) return body
    const error = oauthErrorOf(body)
    if (response.statusCode >= 400 && response.statusCode < 500 && error !== undefined) {
      throw new TokenRefusedError(error, response.statusCode, oauthDescriptionOf(body))
    }
    throw new UpstreamError(`the token endpoint answered ${response.statusCode}`)
  }

  return {
    async exchangeCode (code, codeVerifier) {
      const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: options.redirectUri }
      if (codeVerifier !== undefined) form.code_verifier = codeVerifier
      const body = await grant(form)
      if (body.refresh_token === undefined) {
        throw new UpstreamError('the token endpoint sent no refresh token')
      }
      return tokenFromResponse(body, { refreshToken: body.refresh_token, scope: options.scopes, refreshes: 0, authorizedAt: Math.floor(Date.now() / 1000) })
    },
    async clientCredentials () {
      const body = await grant({ grant_type: 'client_credentials' })
      return { accessToken: body.access_token, expiresAt: Math.floor(Date.now() / 1000) + Math.floor(body.expires_in) }
    },
    async refresh (token) {
      const body = await grant({ grant_type: 'refresh_token', refresh_token: token.refreshToken })
      const carried = { refreshToken: token.refreshToken, scope: token.scope, refreshes: token.refreshes + 1, authorizedAt: token.authorizedAt }
      return { ...sessionFields(token), ...tokenFromResponse(body, carried) }
    }
  }
}
