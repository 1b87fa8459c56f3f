/**
 * A strict local stand-in for accounts.spotify.com and api.spotify.com.
 *
 * @example
 * ```ts
 * const emulator = await createSpotifyEmulator({ autoApprove: true })
 * // accountsUrl: emulator.url, apiUrl: emulator.url
 * await emulator.close()
 * ```
 * @packageDocumentation
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { accountsRoutes } from './accounts.js'
import { apiRoutes } from './api.js'
import { isUser } from './authorize.js'
import { createControl } from './control.js'
import { users } from './fixtures.js'
import { apiError, apiErrorHandler } from './http.js'
import { imageRoutes } from './images.js'
import { createState } from './state.js'
import type { EmulatorOptions, SpotifyEmulator } from './types.js'

export type {
  EmulatorApiRequest, EmulatorClient, EmulatorControl, EmulatorOptions, EmulatorTokenResponse, SpotifyEmulator
} from './types.js'
export { EmulatorAuthorizeError } from './authorize.js'
export { SCOPES } from './scopes.js'
export { users, playlists, tracks, albums, artists, libraries } from './fixtures.js'
export type { FixtureUser, FixturePlaylist, FixturePlaylistItem, FixtureTrack, FixtureAlbum, FixtureArtist, FixtureImage } from './fixtures.js'

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

function flag (value: boolean | undefined, name: string): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw new TypeError(`emulator: options.${name} must be a boolean`)
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

  const state = createState({
    now,
    accessTokenTtl: seconds(options.accessTokenTtl, 3600, 'accessTokenTtl'),
    codeTtl: seconds(options.codeTtl, 600, 'codeTtl'),
    rotateRefreshTokens: flag(options.rotateRefreshTokens, 'rotateRefreshTokens'),
    omitRefreshToken: flag(options.omitRefreshToken, 'omitRefreshToken'),
    clients
  })
  const approveAs = autoApproveUser(options.autoApprove)

  const app = Fastify({
    logger: options.logger ?? false,
    // close() must not wait for keep-alive sockets or hanging requests.
    forceCloseConnections: true,
    // Malformed URLs (bad percent-encoding) get Spotify's error shape too.
    frameworkErrors: (_err, _request, reply) => apiError(reply, 400, 'Bad request')
  })
  app.setErrorHandler(apiErrorHandler)
  app.setNotFoundHandler((_request, reply) => apiError(reply, 404, 'Service not found'))
  app.addHook('preClose', async () => {
    for (const release of [...state.hanging]) release()
  })
  await app.register(accountsRoutes, { state, autoApproveUser: approveAs })
  await app.register(apiRoutes, { state, prefix: '/v1' })
  await app.register(imageRoutes)

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
    control: createControl(state),
    close () {
      closing ??= app.close()
      return closing
    }
  }
}
