import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { CrossSiteRequestError } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import type { Devices, SpotifyDevice } from '../session/devices.js'
import type { Sessions } from '../session/sessions.js'
import type { RequestGuard } from './required-header.js'
import { fromAllowedOrigin } from './same-origin.js'
import { routeSchema } from './schemas.js'

export interface SessionRouteServices {
  options: ResolvedOptions
  sessions: Sessions
  devices: Devices
  /** Runs first on every route here (the `requireHeader` check). */
  guard: RequestGuard
}

/** What `GET {sessionPath}` answers: who is logged in, from the store alone. */
export interface SessionInfo {
  /** The Spotify user. */
  readonly user: {
    /** The Spotify user id. */
    readonly id: string
    /** `account_id`, the key Spotify advises for linking; `null` when Spotify sent none. */
    readonly accountId: string | null
    /** The display name at login; `null` when the user set none. */
    readonly displayName: string | null
  }
  /** The scopes Spotify granted. */
  readonly scopes: readonly string[]
  /** When the current access token expires: Unix seconds (the plugin refreshes it by itself). */
  readonly expiresAt: number
  /** When the refresh token ends and the user must log in again: Unix seconds. Prompt them before. */
  readonly reauthBy: number
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

/**
 * The session routes under `sessionPath`, for a single-page app: who is
 * logged in (`GET`), the user's devices (`GET /devices`), and signing one
 * or all others out. They answer from the store, never calling Spotify,
 * and never show a session id: devices are named by a public handle. The
 * unsafe ones pass the same-origin check, and ignore any body (a form may
 * post one).
 */
export async function sessionRoutes (scope: FastifyInstance, { options, sessions, devices, guard }: SessionRouteServices): Promise<void> {
  const path = options.sessionPath as string
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 }, (_request, _body, done) => { done(null) })
  scope.addHook('onRequest', async (request, reply) => {
    reply.headers(NO_STORE)
    guard(request)
    if (request.method !== 'GET' && request.method !== 'HEAD' && !fromAllowedOrigin(request, options.allowedOrigins)) throw new CrossSiteRequestError()
  })

  scope.get(path, { schema: routeSchema('session', options) }, async (request, reply): Promise<SessionInfo> => {
    const token = await sessions.of(request, reply).stored()
    return {
      user: { id: token.userId, accountId: token.accountId ?? null, displayName: token.displayName ?? null },
      scopes: token.scope,
      expiresAt: token.expiresAt,
      reauthBy: token.refreshTokenExpiresAt
    }
  })

  scope.get(`${path}/devices`, { schema: routeSchema('devices', options) }, async (request, reply): Promise<{ devices: SpotifyDevice[] }> => {
    return { devices: await devices.list(request, reply) }
  })

  scope.delete(`${path}/devices/:id`, { schema: routeSchema('endDevice', options) }, async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    await devices.end(request, reply, request.params.id)
    return reply.code(204).send()
  })

  scope.post(`${path}/devices/end-others`, { schema: routeSchema('endOtherDevices', options) }, async (request, reply): Promise<{ ended: number }> => {
    return { ended: await devices.endOthers(request, reply) }
  })
}
