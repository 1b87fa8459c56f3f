import type { FastifyInstance } from 'fastify'
import { CrossSiteRequestError, missingScopes } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import type { Sessions } from '../session/sessions.js'
import type { RequestGuard } from './required-header.js'
import { fromAllowedPage } from './same-origin.js'
import { routeSchema } from './schemas.js'

export interface PlaybackTokenServices {
  options: ResolvedOptions
  sessions: Sessions
  /** Runs first (the `requireHeader` check). */
  guard: RequestGuard
}

/** What the Web Playback SDK's `getOAuthToken` gets: never the refresh token. */
export interface PlaybackToken {
  /** The session's current access token (refreshed first when it was about to expire). */
  accessToken: string
  /** Unix time in seconds. */
  expiresAt: number
}

/**
 * `GET {playbackTokenPath}`: the one place an access token reaches the
 * browser, because the Web Playback SDK runs there and wants one. Only a
 * page of the app gets it (a cross-site `<script src>` or form must not),
 * only a token that can stream, and nothing may keep a copy of it.
 */
export async function playbackTokenRoute (scope: FastifyInstance, { options, sessions, guard }: PlaybackTokenServices): Promise<void> {
  scope.get(options.playbackTokenPath as string, {
    schema: routeSchema('playbackToken', options),
    // A HEAD would load (and maybe refresh) the token only to drop it.
    exposeHeadRoute: false
  }, async (request, reply): Promise<PlaybackToken> => {
    reply.headers({ 'cache-control': 'no-store', pragma: 'no-cache', 'x-content-type-options': 'nosniff' })
    guard(request)
    if (!fromAllowedPage(request, options.allowedOrigins)) throw new CrossSiteRequestError()
    const token = await sessions.of(request, reply).required()
    if (!token.scope.includes('streaming')) throw missingScopes(['streaming'])
    return { accessToken: token.accessToken, expiresAt: token.expiresAt }
  })
}
