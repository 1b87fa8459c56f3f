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

/**
 * The header a page of the app sends with its request for a token. Pages of
 * other origins cannot send it without a CORS preflight, and their request
 * carries an `Origin` that decides first; it only speaks for browsers that
 * send neither `Origin` nor `Sec-Fetch-Site` on a same-origin GET.
 */
export const TOKEN_REQUEST_HEADER = 'x-spotify-auth'

/**
 * Whether a GET that answers a secret comes from a page of the app (or of a
 * trusted origin): `fromAllowedOrigin`, except that a request with neither
 * `Origin` nor `Sec-Fetch-Site`, which a cross-site `<script src>` or form
 * also is in an older browser, must carry `TOKEN_REQUEST_HEADER: 1`.
 */
export function fromAllowedPage (request: FastifyRequest, allowed: ReadonlySet<string>): boolean {
  const headers = request.headers
  if (headers.origin !== undefined || headers['sec-fetch-site'] !== undefined) return fromAllowedOrigin(request, allowed)
  return headers[TOKEN_REQUEST_HEADER] === '1'
}
