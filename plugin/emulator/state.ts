/**
 * Everything one emulator instance remembers: registered clients, codes,
 * tokens, the test switches and the mutable copy of the playlists. Plain
 * data plus the few functions that mint and look up grants, so the HTTP
 * layers and the control object share one source of truth.
 */
import { randomBytes } from 'node:crypto'
import { libraries, playlists, type FixturePlaylist } from './fixtures.js'
import { createQuota, type Quota } from './quota.js'
import type {
  EmulatorApiRequest, EmulatorAppTokenResponse, EmulatorClient, EmulatorCounters, EmulatorMode, EmulatorTokenResponse
} from './types.js'

export interface Client {
  readonly clientId: string
  readonly clientSecret: string
  readonly redirectUris: readonly string[]
  readonly name: string
}

export interface AuthorizationCode {
  readonly clientId: string
  readonly userId: string
  readonly redirectUri: string
  readonly scopes: readonly string[]
  /** The S256 challenge, when the request used PKCE. */
  readonly codeChallenge: string | undefined
  readonly expiresAt: number
}

/** One authorization: what a refresh token and its access tokens stand for. */
export interface Grant {
  readonly clientId: string
  /** `null` for an app token (`client_credentials`), which acts for no user. */
  readonly userId: string | null
  readonly scopes: readonly string[]
  /** Issued through PKCE: the client may refresh with its id alone. */
  readonly publicClient: boolean
  /** When the refresh token dies, whatever refreshes or rotations happened since. */
  readonly refreshExpiresAt: number
}

/** A grant for a user, as a code exchange or `control.issueTokens` makes it. */
export type UserGrant = Grant & { readonly userId: string }

export interface AccessToken {
  readonly grant: Grant
  expiresAt: number
}

/** A remaining count of calls a switch applies to, and its parameter. */
export interface Switch {
  count: number
  value: number
}

export interface EmulatorState {
  /** Set once the server listens; used for absolute `href`/`next` links. */
  baseUrl: string
  readonly now: () => number
  readonly mode: EmulatorMode
  accessTokenTtl: number
  readonly codeTtl: number
  /** Seconds; `undefined`: six calendar months. */
  refreshTokenTtl: number | undefined
  rotateRefreshTokens: boolean
  omitRefreshToken: boolean
  omitRefreshScope: boolean
  /** How many requests `apiRequests` keeps, and whether with their bodies. */
  readonly recordRequests: number
  readonly recordBodies: boolean
  /** Whether the app owner has Premium, which Development Mode requires. */
  ownerPremium: boolean
  /** The users registered under "User Management". */
  readonly allowList: Set<string>
  readonly clients: Map<string, Client>
  readonly codes: Map<string, AuthorizationCode>
  readonly refreshTokens: Map<string, Grant>
  /** Refresh tokens revoked by `control.revokeRefreshToken` / `revokeAll`: refused as revoked, not unknown. */
  readonly revokedRefreshTokens: Set<string>
  readonly accessTokens: Map<string, AccessToken>
  readonly counters: EmulatorCounters
  /** `/v1` calls by `METHOD /route` (route patterns, `unknown` when none matched). */
  readonly apiCalls: Map<string, number>
  /** Spotify's quota, per client id. */
  readonly quota: Quota
  readonly apiRequests: EmulatorApiRequest[]
  apiResponseHeaders: Record<string, string | string[]>
  readonly failToken: Switch
  readonly hangToken: Switch
  readonly rateLimitApi: Switch
  readonly failApi: Switch
  readonly hangApi: Switch
  readonly unauthorizeApi: Switch
  /** Token calls to hold until a test releases them, oldest first. */
  readonly tokenHolds: TokenHold[]
  /** Releases of requests held open by a hang switch; `close()` calls them all. */
  readonly hanging: Set<() => void>
  /** Fixture playlists plus the ones created through the API, by id. */
  readonly playlists: Map<string, FixturePlaylist>
  /** Each user's library (playlist ids in listing order), copied so creating a playlist touches only this instance. */
  readonly libraries: Map<string, string[]>
  /** The URIs each user saved with `PUT /me/library`, playlists excepted (those live in `libraries`). */
  readonly saved: Map<string, Set<string>>
}

export interface StateOptions {
  now: () => number
  mode: EmulatorMode
  accessTokenTtl: number
  codeTtl: number
  refreshTokenTtl: number | undefined
  rotateRefreshTokens: boolean
  omitRefreshToken: boolean
  omitRefreshScope: boolean
  recordRequests: number
  recordBodies: boolean
  allowList: readonly string[]
  clients: readonly EmulatorClient[]
}

export function createState (options: StateOptions): EmulatorState {
  const state: EmulatorState = {
    baseUrl: '',
    now: options.now,
    mode: options.mode,
    accessTokenTtl: options.accessTokenTtl,
    codeTtl: options.codeTtl,
    refreshTokenTtl: options.refreshTokenTtl,
    rotateRefreshTokens: options.rotateRefreshTokens,
    omitRefreshToken: options.omitRefreshToken,
    omitRefreshScope: options.omitRefreshScope,
    recordRequests: options.recordRequests,
    recordBodies: options.recordBodies,
    ownerPremium: true,
    allowList: new Set(options.allowList),
    clients: new Map(),
    codes: new Map(),
    refreshTokens: new Map(),
    revokedRefreshTokens: new Set(),
    accessTokens: new Map(),
    counters: { authorization_code: 0, refresh_token: 0, client_credentials: 0, api: 0 },
    apiCalls: new Map(),
    quota: createQuota(),
    apiRequests: [],
    apiResponseHeaders: {},
    failToken: { count: 0, value: 0 },
    hangToken: { count: 0, value: 0 },
    rateLimitApi: { count: 0, value: 0 },
    failApi: { count: 0, value: 0 },
    hangApi: { count: 0, value: 0 },
    unauthorizeApi: { count: 0, value: 0 },
    tokenHolds: [],
    hanging: new Set(),
    playlists: new Map(playlists.map((p) => [p.id, p])),
    libraries: new Map([...libraries].map(([userId, ids]) => [userId, [...ids]])),
    saved: new Map([...libraries.keys()].map((userId) => [userId, new Set<string>()]))
  }
  for (const client of options.clients) addClient(state, client)
  return state
}

function isAbsoluteUrl (value: string): boolean {
  try {
    const url = new URL(value)
    return url.hash === '' && url.username === '' && url.password === ''
  } catch {
    return false
  }
}

/** Registers a client, validating it as Spotify's dashboard would. */
export function addClient (state: EmulatorState, client: EmulatorClient): void {
  if (typeof client?.clientId !== 'string' || client.clientId === '' || client.clientId.includes(':')) {
    throw new TypeError('emulator: client.clientId must be a non-empty string without ":"')
  }
  if (typeof client.clientSecret !== 'string' || client.clientSecret === '') {
    throw new TypeError('emulator: client.clientSecret must be a non-empty string')
  }
  if (!Array.isArray(client.redirectUris) || client.redirectUris.length === 0 ||
      !client.redirectUris.every((u) => typeof u === 'string' && isAbsoluteUrl(u))) {
    throw new TypeError('emulator: client.redirectUris must be a non-empty array of absolute URLs without fragment or credentials')
  }
  if (state.clients.has(client.clientId)) {
    throw new Error(`emulator: client ${client.clientId} is already registered`)
  }
  state.clients.set(client.clientId, {
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    redirectUris: [...client.redirectUris],
    name: client.name ?? client.clientId
  })
}

/** A long random base64url string with Spotify's two-letter prefix. */
function secretString (prefix: string, bytes: number): string {
  return prefix + randomBytes(bytes).toString('base64url')
}

/** Mints a single-use authorization code. */
export function issueCode (state: EmulatorState, code: Omit<AuthorizationCode, 'expiresAt'>): string {
  const value = secretString('AQ', 180)
  state.codes.set(value, { ...code, expiresAt: state.now() + state.codeTtl * 1000 })
  return value
}

function issueAccessToken (state: EmulatorState, grant: Grant): string {
  const value = secretString('BQ', 120)
  state.accessTokens.set(value, { grant, expiresAt: state.now() + state.accessTokenTtl * 1000 })
  return value
}

/**
 * When a refresh token from an authorization made now dies: Spotify counts
 * six months from the authorization, so a calendar date, not a fixed span.
 */
export function refreshExpiry (state: EmulatorState): number {
  const now = state.now()
  if (state.refreshTokenTtl !== undefined) return now + state.refreshTokenTtl * 1000
  const date = new Date(now)
  date.setUTCMonth(date.getUTCMonth() + 6)
  return date.getTime()
}

/** A fresh access and refresh token for a user's grant, as a code exchange returns them. */
export function issueTokens (state: EmulatorState, grant: UserGrant): EmulatorTokenResponse {
  const refreshToken = secretString('AQ', 96)
  state.refreshTokens.set(refreshToken, grant)
  return {
    access_token: issueAccessToken(state, grant),
    token_type: 'Bearer',
    scope: grant.scopes.join(' '),
    expires_in: state.accessTokenTtl,
    refresh_token: refreshToken
  }
}

/** An app token: no user, no scope, nothing to refresh. */
export function issueAppToken (state: EmulatorState, clientId: string): EmulatorAppTokenResponse {
  const grant: Grant = { clientId, userId: null, scopes: [], publicClient: false, refreshExpiresAt: 0 }
  return { access_token: issueAccessToken(state, grant), token_type: 'Bearer', expires_in: state.accessTokenTtl }
}

/**
 * A refresh response. Rotation invalidates the old refresh token but leaves
 * access tokens already issued valid until they expire, as Spotify does; the
 * new token keeps the grant, and so its expiry.
 */
export function refreshTokens (state: EmulatorState, refreshToken: string, grant: Grant): Record<string, string | number> {
  const response: Record<string, string | number> = {
    access_token: issueAccessToken(state, grant),
    token_type: 'Bearer',
    expires_in: state.accessTokenTtl
  }
  if (!state.omitRefreshScope) response.scope = grant.scopes.join(' ')
  if (state.rotateRefreshTokens) {
    state.refreshTokens.delete(refreshToken)
    const next = secretString('AQ', 96)
    state.refreshTokens.set(next, grant)
    response.refresh_token = next
  } else if (!state.omitRefreshToken) {
    response.refresh_token = refreshToken
  }
  return response
}

/** Uses one call of a switch if any are left. */
export function take (sw: Switch): boolean {
  if (sw.count <= 0) return false
  sw.count--
  return true
}

/** Arms a switch for the next `count` calls. */
export function arm (sw: Switch, count: number, value: number, name: string): void {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`emulator: ${name} count must be a non-negative integer`)
  sw.count = count
  sw.value = value
}

/** One armed `holdTokenCalls()`: the call that takes it waits for `gate`. */
export interface TokenHold {
  arrive (): void
  readonly gate: Promise<void>
}

/** A gate that opens when `release` is called, or when `close()` releases everything. */
export function hold (state: EmulatorState): { gate: Promise<void>, release: () => void } {
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = (): void => {
      state.hanging.delete(release)
      resolve()
    }
    state.hanging.add(release)
  })
  return { gate, release }
}

/** Holds a request open until `close()` releases it. */
export function hang (state: EmulatorState): Promise<void> {
  return hold(state).gate
}
