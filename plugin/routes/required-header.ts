import type { FastifyRequest } from 'fastify'
import { MissingHeaderError } from '../errors.js'

/** A check a route runs first: throws the request's refusal, or returns. */
export type RequestGuard = (request: FastifyRequest) => void

const NONE: RequestGuard = () => {}

/**
 * `requireHeader`: the proxy, the session routes and the playback token
 * route answer only requests that carry this header (any value). A page of
 * another origin cannot send a custom header without a CORS preflight,
 * which the app does not grant: whatever the cookie, whatever the method,
 * and whichever browser (one that sends neither `Origin` nor
 * `Sec-Fetch-Site` too). The browser-apps BCP asks a BFF for exactly this.
 * Without the option, no check (and no cost on the proxy's hot path).
 */
export function requiredHeader (name: string | undefined): RequestGuard {
  if (name === undefined) return NONE
  return (request) => {
    const value = request.headers[name]
    if (value === undefined || value === '') throw new MissingHeaderError(name)
  }
}
