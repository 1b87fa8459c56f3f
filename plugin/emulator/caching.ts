/**
 * The Web API's caching headers: every 200 answer to a GET carries a strong
 * `ETag` of its body, and a `Cache-Control` Spotify would send for it:
 * catalog data (tracks, albums, artists, shows…) is the same for everyone
 * and changes rarely (`public, max-age=7200`); what belongs to a user
 * (`/me…`, playlists, anything else) may change at any time
 * (`private, max-age=0`: a client keeps it only to revalidate). A matching
 * `If-None-Match` gets `304 Not Modified` without a body.
 */
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

const CATALOG = /^\/v1\/(tracks|albums|artists|shows|episodes|audiobooks|chapters|markets|browse)(\/|$)/

function cacheControlOf (route: string): string {
  return CATALOG.test(route) ? 'public, max-age=7200' : 'private, max-age=0'
}

/** Whether `header` (a list, or `*`) names `etag`, by weak comparison as RFC 9110 asks for If-None-Match. */
export function matches (header: string, etag: string): boolean {
  const opaque = etag.replace(/^W\//, '')
  for (const part of header.split(',')) {
    const tag = part.trim()
    if (tag === '*' || (tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true
  }
  return false
}

/** `onSend` of the `/v1` routes: validators, freshness and 304s. */
export function withCaching (request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  // Every /v1 answer is serialised JSON by now: a string.
  if (request.method !== 'GET' || reply.statusCode !== 200) return payload
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', cacheControlOf(String(request.routeOptions.url)))
  if (!reply.hasHeader('etag')) reply.header('etag', `"${createHash('sha256').update(payload as string).digest('base64url').slice(0, 27)}"`)
  const asked = request.headers['if-none-match']
  if (typeof asked !== 'string' || !matches(asked, String(reply.getHeader('etag')))) return payload
  reply.code(304)
  reply.removeHeader('content-type')
  reply.removeHeader('content-length')
  return ''
}
