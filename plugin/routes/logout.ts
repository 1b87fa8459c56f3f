import type { FastifyInstance } from 'fastify'
import { CrossSiteRequestError } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import type { Sessions } from '../session/sessions.js'
import { fromAllowedOrigin } from './same-origin.js'
import { routeSchema } from './schemas.js'

export interface LogoutServices {
  options: ResolvedOptions
  sessions: Sessions
}

/**
 * `POST {logoutPath}`. A plain HTML form posts it as urlencoded (often with
 * no fields at all), which Fastify would refuse with 415: whatever the body,
 * it is read (up to 1 KiB) and ignored. A form posted from another origin
 * is refused before the body is read: a page elsewhere must not log the
 * user out.
 */
export async function logoutRoute (scope: FastifyInstance, { options, sessions }: LogoutServices): Promise<void> {
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 }, (_request, _body, done) => { done(null) })
  scope.post(options.logoutPath, {
    schema: routeSchema('logout', options),
    onRequest: async (request) => {
      if (!fromAllowedOrigin(request, options.allowedOrigins)) throw new CrossSiteRequestError()
    }
  }, async (request, reply) => {
    await sessions.of(request, reply).end()
    return reply.redirect(options.successRedirect, 303)
  })
}
