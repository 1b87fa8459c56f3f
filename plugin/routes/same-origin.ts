import type { FastifyRequest } from 'fastify'

/**
 * Whether a state-changing request (the proxy's POST, PUT, PATCH, DELETE;
 * logout) may come from where it comes from. `SameSite=Lax` sends the
 * session cookie along with a form posted from any page of the same site
 * (another port, a sibling subdomain), so the cookie alone proves nothing.
 *
 * The `Origin` header, which browsers send with every such request and
 * which a page cannot forge, decides when present: it must be the app's own
 * origin or one of `trustedOrigins`. Without it, `Sec-Fetch-Site`, when
 * present, must be `same-origin`. A request with neither (a server, curl, an
 * old client) comes from no browser page and goes through.
 */
export function fromAllowedOrigin (request: FastifyRequest, allowed: ReadonlySet<string>): boolean {
  const origin = request.headers.origin
  if (origin !== undefined) return allowed.has(origin)
  const site = request.headers['sec-fetch-site']
  return site === undefined || site === 'same-origin'
}

/** Methods that change something: the only ones a cross-site page must not send with the user's session. */
export const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
