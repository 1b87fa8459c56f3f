import type { IncomingHttpHeaders } from 'node:http'
import type { WebApiAnswer } from '../web-api/call.js'
import { namedInConnection } from '../web-api/hop-by-hop.js'

/**
 * Request headers that reach Spotify; everything else (cookie, authorization,
 * host, hop-by-hop) stays behind, and so does any of these that the
 * request's `Connection` names (it is for that hop only). `content-length`
 * is on the contract's list too: the transport sets it from the (buffered)
 * body, so it always matches. The bearer is the call policy's to add.
 */
const FORWARDED_REQUEST_HEADERS = [
  'accept', 'accept-language', 'content-type',
  'if-match', 'if-none-match', 'if-modified-since', 'range',
  // What the page asks of caches (a reload's `no-cache`): the call
  // policy's response cache honours it, and so may Spotify's.
  'cache-control', 'pragma'
] as const

/**
 * Response headers that come back: what describes the body, caching and
 * rate limits, unless the answer's `Connection` names them. Everything else
 * (the upstream's cookies, hop-by-hop headers, its origin-wide policies such
 * as HSTS, Alt-Svc or CORS) stays behind. `content-length` is set again by
 * Fastify for the same bytes.
 */
const RETURNED_RESPONSE_HEADERS = [
  'content-type', 'content-language', 'content-range', 'accept-ranges',
  'cache-control', 'etag', 'last-modified', 'expires', 'vary', 'age',
  'retry-after', 'location', 'www-authenticate'
] as const

/**
 * Proxied responses come from the app's origin with the upstream's content
 * type: a browser must neither sniff them into something else nor run them
 * as a page of the app.
 */
const SANDBOX = "default-src 'none'; frame-ancestors 'none'; sandbox"

/** The headers of a proxied request that go to Spotify: a fresh object, for the call policy to add the bearer to. */
export function forwardedHeaders (incoming: IncomingHttpHeaders): Record<string, string> {
  const named = namedInConnection(incoming.connection)
  const headers: Record<string, string> = {}
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = incoming[name]
    if (typeof value === 'string' && named?.has(name) !== true) headers[name] = value
  }
  return headers
}

/** The headers of Spotify's answer that go back to the browser, with the proxy's own. */
export function returnedHeaders (upstream: WebApiAnswer['headers']): Record<string, string | string[]> {
  const named = namedInConnection(upstream.connection)
  const headers: Record<string, string | string[]> = { 'x-content-type-options': 'nosniff', 'content-security-policy': SANDBOX }
  for (const name of RETURNED_RESPONSE_HEADERS) {
    const value = upstream[name]
    if (value !== undefined && named?.has(name) !== true) headers[name] = value
  }
  return headers
}
