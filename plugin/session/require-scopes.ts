import type { FastifyReply, FastifyRequest } from 'fastify'
import { InvalidOptionError, missingScopes } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import { SCOPES } from '../accounts/scopes.js'
import type { Sessions } from './sessions.js'

/** A hook of the app's own routes, as `fastify.spotify.requireScopes` makes them. */
export type ScopesHook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

/**
 * A browser asking for a page, which can follow a redirect through Spotify's
 * consent page and back; a fetch cannot (the authorize page sends no CORS
 * headers). `Sec-Fetch-Mode` says so when the browser sends it.
 */
function isNavigation (request: FastifyRequest): boolean {
  if (request.method !== 'GET') return false
  const mode = request.headers['sec-fetch-mode']
  if (mode !== undefined) return mode === 'navigate'
  return request.headers.accept?.includes('text/html') === true
}

/**
 * Makes `fastify.spotify.requireScopes`: checked once, when the app builds
 * its routes, so that a typo or a scope the login can never ask for fails
 * at startup rather than on a user's request.
 */
export function scopesRequirer (options: ResolvedOptions, sessions: Sessions, loginUrl: string): (scopes: readonly string[]) => ScopesHook {
  const askable = new Set([...options.scopes, ...options.optionalScopes])
  return (scopes) => {
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((scope) => typeof scope === 'string')) {
      throw new InvalidOptionError('requireScopes() takes a non-empty array of scope names such as user-top-read')
    }
    for (const scope of scopes) {
      if (!SCOPES.has(scope)) throw new InvalidOptionError(`requireScopes() got ${JSON.stringify(scope.slice(0, 64))}, which is not a scope Spotify documents`)
      if (!askable.has(scope)) {
        throw new InvalidOptionError(`requireScopes() needs ${scope} in options.scopes or options.optionalScopes: the login could never ask for it`)
      }
    }
    const required = [...new Set(scopes)]
    return async (request, reply) => {
      const token = await sessions.of(request, reply).required()
      const missing = required.filter((scope) => !token.scope.includes(scope))
      if (missing.length === 0) return
      if (!isNavigation(request)) throw missingScopes(missing)
      // Everything granted so far, and what is missing: a new login grants
      // only what it asks for.
      const scope = [...new Set([...token.scope, ...missing])].join(' ')
      return reply.redirect(`${loginUrl}?scope=${encodeURIComponent(scope)}&returnTo=${encodeURIComponent(request.url)}`, 302)
    }
  }
}
