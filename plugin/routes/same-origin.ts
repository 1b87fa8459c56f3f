import type { FastifyRequest } from 'fastify'

/**
 * Whether a state-changing request (the proxy's POST, PUT, PATCH, DELETE;
 * logout) may come from where it comes from. `SameSite=Lax` sends the
 * session cookie along with a form posted from any page of the same site
 * (another port, a sibling subdomain), so the cookie alone proves nothing.
 *
 * The `Origin` header, which browsers send with every such request and
 * which a page cannot forge, decides when it names an origin: it must be the
 * app's own or one of `trustedOrigins`. A page with `Referrer-Policy:
 * no-referrer` sends `Origin: null` on its own form posts, so then
 * `Sec-Fetch-Site` decides: it must be `same-origin`. A request with neither
 * header (a server, curl, an old client) comes from no browser page and goes
 * through; an opaque `null` origin with nothing else to go by does not.
 */
export function fromAllowedOrigin (request: FastifyRequest, allowed: ReadonlySet<string>): boolean {
  const origin = request.headers.origin
  if (origin !== undefined && origin !== 'null') return allowed.has(origin)
  const site = request.headers['sec-fetch-site']
  if (site !== undefined) return site === 'same-origin'
  return origin === undefined
}

/** Methods that change something: the only ones a cross-site page must not send with the user's session. */
export const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
