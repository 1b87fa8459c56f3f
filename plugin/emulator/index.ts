/**
 * A strict local stand-in for accounts.spotify.com and api.spotify.com.
 *
 * @example
 * ```ts
 * const emulator = await createSpotifyEmulator({ autoApprove: true })
 * // accountsUrl: emulator.url, apiUrl: emulator.url
 * await emulator.close()
 * ```
 *
 * @module fastify-spotify-auth/emulator
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { accountsRoutes } from './accounts.js'
import { apiRoutes } from './api.js'
import { isUser } from './authorize.js'
import { createControl } from './control.js'
import { addCors } from './cors.js'
import { MAX_DEVELOPMENT_USERS } from './development-mode.js'
import { users } from './fixtures.js'
import { apiError, apiErrorHandler } from './http.js'
import { imageRoutes } from './images.js'
import { createState } from './state.js'
import type { EmulatorMode, EmulatorOptions, SpotifyEmulator } from './types.js'

export type {
  EmulatorApiRequest, EmulatorAppTokenResponse, EmulatorClient, EmulatorControl, EmulatorCounters, EmulatorMode,
  EmulatorOptions, EmulatorTokenResponse, SpotifyEmulator
} from './types.js'
export { EmulatorAuthorizeError } from './authorize.js'
export { SCOPES } from './scopes.js'
export { users, playlists, tracks, albums, artists, libraries, categories } from './fixtures.js'
export type {
  FixtureUser, FixturePlaylist, FixturePlaylistItem, FixtureTrack, FixtureAlbum, FixtureArtist, FixtureImage, FixtureCategory
} from './fixtures.js'
export { PREMIUM_REQUIRED, USER_NOT_REGISTERED } from './development-mode.js'

/** The client id of the application registered when `options.clients` is not given. */
export const DEFAULT_CLIENT_ID = 'emulator-client-id'
/** The client secret of the default application. */
export const DEFAULT_CLIENT_SECRET = 'emulator-client-secret'
/** The redirect URI of the default application: the demo's default callback. */
export const DEFAULT_REDIRECT_URI = 'http://127.0.0.1:5543/callback'

function seconds (value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`emulator: options.${name} must be a positive integer of seconds`)
  return value
}

function count (value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`emulator: options.${name} must be a whole number`)
  return value
}

function flag (value: boolean | undefined, name: string, fallback = false): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new TypeError(`emulator: options.${name} must be a boolean`)
  return value
}

function modeOf (value: EmulatorMode | undefined): EmulatorMode {
  if (value === undefined) return 'development'
  if (value !== 'development' && value !== 'extended') throw new TypeError("emulator: options.mode must be 'development' or 'extended'")
  return value
}

/**
 * The allow-list: the first five fixture users unless given, so that the
 * sixth (frank) shows what an unregistered user meets.
 */
function allowListOf (value: string[] | undefined, mode: EmulatorMode): string[] {
  if (value === undefined) return users.slice(0, MAX_DEVELOPMENT_USERS).map((u) => u.id)
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string' && isUser(id))) {
    throw new TypeError(`emulator: options.allowList must be an array of fixture user ids (${users.map((u) => u.id).join(', ')})`)
  }
  if (mode === 'development' && new Set(value).size > MAX_DEVELOPMENT_USERS) {
    throw new TypeError(`emulator: options.allowList may name at most ${MAX_DEVELOPMENT_USERS} users in development mode`)
  }
  return value
}

/** The user `/authorize` approves for without asking, from `options.autoApprove`. */
function autoApproveUser (value: boolean | string | undefined): string | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return users[0]!.id
  if (typeof value !== 'string' || !isUser(value)) {
    throw new TypeError(`emulator: options.autoApprove must be a boolean or a fixture user id (${users.map((u) => u.id).join(', ')})`)
  }
  return value
}

/** `http://host:port`, with brackets around an IPv6 literal. */
function baseUrl (app: FastifyInstance): string {
  const { address, port } = app.server.address() as { address: string, port: number }
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`
}

/**
 * Starts an emulator listening on `options.host`:`options.port` (default
 * 127.0.0.1 and a free port) and resolves once it accepts connections.
 * Invalid options reject with a `TypeError` naming the option.
 */
export async function createSpotifyEmulator (options: EmulatorOptions = {}): Promise<SpotifyEmulator> {
  const clients = options.clients ?? [{
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
    redirectUris: [DEFAULT_REDIRECT_URI],
    name: 'Emulated App'
  }]
  if (!Array.isArray(clients) || clients.length === 0) throw new TypeError('emulator: options.clients must be a non-empty array')
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('emulator: options.now must be a function')

  const mode = modeOf(options.mode)

  const state = createState({
    now,
    mode,
    accessTokenTtl: seconds(options.accessTokenTtl, 3600, 'accessTokenTtl'),
    codeTtl: seconds(options.codeTtl, 600, 'codeTtl'),
    refreshTokenTtl: options.refreshTokenTtl === undefined ? undefined : seconds(options.refreshTokenTtl, 0, 'refreshTokenTtl'),
    rotateRefreshTokens: flag(options.rotateRefreshTokens, 'rotateRefreshTokens'),
    recordRequests: count(options.recordRequests, 100, 'recordRequests'),
    recordBodies: flag(options.recordBodies, 'recordBodies'),
    omitRefreshToken: flag(options.omitRefreshToken, 'omitRefreshToken', true),
    omitRefreshScope: flag(options.omitRefreshScope, 'omitRefreshScope', true),
    allowList: allowListOf(options.allowList, mode),
    clients
  })
  const approveAs = autoApproveUser(options.autoApprove)

  const app = Fastify({
    logger: options.logger ?? false,
    // close() must not wait for keep-alive sockets or hanging requests.
    forceCloseConnections: true,
    // Clients differ on `/v1/me/` against `/v1/me`; Spotify serves both.
    routerOptions: { ignoreTrailingSlash: true },
    // Malformed URLs (bad percent-encoding) get Spotify's error shape too.
    frameworkErrors: (_err, _request, reply) => apiError(reply, 400, 'Bad request')
  })
  app.setErrorHandler(apiErrorHandler)
  app.setNotFoundHandler((_request, reply) => apiError(reply, 404, 'Service not found'))
  app.addHook('preClose', async () => {
    for (const release of [...state.hanging]) release()
  })
  addCors(app)
  await app.register(accountsRoutes, { state, autoApproveUser: approveAs })
  await app.register(apiRoutes, { state, prefix: '/v1' })
  await app.register(imageRoutes)
  // Not Spotify's: where a demo or a bench in another process reads the counters.
  app.get('/emulator/counters', async () => ({ ...state.counters, byEndpoint: Object.fromEntries(state.apiCalls) }))

  try {
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 })
  } catch (err) {
    await app.close()
    throw err
  }
  const url = baseUrl(app)
  state.baseUrl = url

  let closing: Promise<void> | undefined
  return {
    url,
    accountsUrl: url,
    apiUrl: url,
    mode,
    control: createControl(state),
    close () {
      closing ??= app.close()
      return closing
    }
  }
}
