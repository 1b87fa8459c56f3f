import { randomBytes } from 'node:crypto'
import { signerFactory } from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { LruMap } from 'toad-cache'
import type { ResolvedOptions } from '../options.js'

/** 256 random bits, base64url: 43 characters. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/
/** Verified cookie values remembered, so that a session's requests skip the HMAC after the first. */
const VERIFIED_MAX = 10_000

/** A new session id; one per login, never taken from the browser. */
export function newSessionId (): string {
  return randomBytes(32).toString('base64url')
}

/** Reads and writes the opaque, signed session cookie: it carries the session id and nothing else. */
export interface SessionCookie {
  /**
   * The session id of a request with a validly signed cookie. A cookie signed
   * with an older secret is re-signed with the current one on the way out.
   */
  read (request: FastifyRequest, reply: FastifyReply): string | undefined
  /** Whether the request carries the cookie at all, valid or not. */
  sent (request: FastifyRequest): boolean
  /**
   * Sets the cookie. With `notAfter` (Unix seconds: the refresh token's
   * end), its `Max-Age` stops there if `cookie.maxAge` would outlast it: a
   * cookie that outlives its session only makes a logged-out page look
   * logged in.
   */
  write (reply: FastifyReply, sessionId: string, notAfter?: number): void
  clear (reply: FastifyReply): void
}

/**
 * The name a cookie gets: with `secure`, the `__Host-` prefix (or
 * `__Secure-` when it names a `domain`), which browsers only accept from a
 * secure origin, host-only and with `Path=/`: a sibling subdomain or a
 * plain-http hop can no longer plant one.
 */
export function prefixedName (name: string, secure: boolean, domain: string | undefined): string {
  if (!secure || /^__(host|secure)-/i.test(name)) return name
  return domain === undefined ? `__Host-${name}` : `__Secure-${name}`
}

/** Whether the raw `Cookie` header holds `name` more than once (a cookie tossed in beside ours). */
function sentTwice (header: string | undefined, name: string): boolean {
  const needle = `${name}=`
  // Cheap first: a second occurrence anywhere, then an exact count.
  if (header === undefined || header.indexOf(needle) === header.lastIndexOf(needle)) return false
  return header.split(';').filter((pair) => pair.trim().startsWith(needle)).length > 1
}

type Signer = ReturnType<typeof signerFactory>

// Our own signer, not request.unsignCookie: the app may have registered
// @fastify/cookie with a secret of its own, or none. A parameter so that a
// test can count the signature checks without replacing a module.
export function createSessionCookie (options: ResolvedOptions, signer: Signer = signerFactory(options.secrets)): SessionCookie {
  const { secure, sameSite, domain, maxAge } = options.cookie
  const name = prefixedName(options.cookie.name, secure, domain)
  const attributes = {
    path: '/',
    httpOnly: true,
    secure,
    sameSite,
    ...(domain === undefined ? {} : { domain })
  }
  const writeAttributes = maxAge === null ? attributes : { ...attributes, maxAge }

  // Signed value → session id, for values signed with the current secret
  // only. A valid signature stays valid whatever happens to the session, so
  // nothing here ever needs invalidating; the least recently used makes room.
  const verified = new LruMap<string>(VERIFIED_MAX)

  function write (reply: FastifyReply, sessionId: string, notAfter?: number): void {
    let written = writeAttributes
    if (notAfter !== undefined && maxAge !== null) {
      const left = Math.max(1, notAfter - Math.floor(Date.now() / 1000))
      if (left < maxAge) written = { ...attributes, maxAge: left }
    }
    reply.setCookie(name, signer.sign(sessionId), written)
  }

  return {
    read (request, reply) {
      const raw = request.cookies[name]
      // Two cookies of our name (one planted with another Path or Domain,
      // which the browser sends first): neither is trusted.
      if (raw === undefined || sentTwice(request.headers.cookie, name)) return undefined
      const known = verified.get(raw)
      if (known !== undefined) return known
      const unsigned = signer.unsign(raw)
      if (!unsigned.valid || !SESSION_ID.test(unsigned.value)) {
        // Forged, or signed by a secret no longer in the list: it can never
        // work again, so the browser stops sending it.
        reply.clearCookie(name, attributes)
        return undefined
      }
      if (unsigned.renew) {
        write(reply, unsigned.value)
      } else {
        verified.set(raw, unsigned.value)
      }
      return unsigned.value
    },
    sent (request) {
      return request.cookies[name] !== undefined
    },
    write,
    clear (reply) {
      reply.clearCookie(name, attributes)
    }
  }
}
