/*
 * RFC 9111 for a private cache, as far as the Web API needs it: what may be
 * stored, for how long it is fresh, and what a request asks of the cache.
 */

import { memoized } from '../memo.js'

const NONE: ReadonlyMap<string, string> = new Map()

function parseDirectives (value: string): ReadonlyMap<string, string> {
  const directives = new Map<string, string>()
  for (const part of value.split(',')) {
    const equals = part.indexOf('=')
    const name = (equals === -1 ? part : part.slice(0, equals)).trim().toLowerCase()
    if (name !== '') directives.set(name, equals === -1 ? '' : part.slice(equals + 1).trim().replace(/^"|"$/g, ''))
  }
  return directives
}

/** A header's directives by lower-case name (`max-age` → `60`, `no-cache` → ``). */
const directivesOfLine = memoized(parseDirectives)

/** Several lines of a list header mean the same as one line joined with commas (RFC 9110 §5.3). */
function directivesOf (value: string | string[] | undefined): ReadonlyMap<string, string> {
  if (value === undefined) return NONE
  return directivesOfLine(Array.isArray(value) ? value.join(',') : value)
}

function seconds (value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined
}

function first (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/**
 * How long an answer may be served without asking Spotify, in ms, or
 * `undefined` when a private cache must not store it: `no-store`, `Vary: *`,
 * or no way to tell it is still good (neither freshness nor an `ETag`).
 * `no-cache` and `max-age=0` store it only to revalidate (0 ms). `max-age`
 * wins over `Expires`; `s-maxage` is for shared caches, not this one. The
 * `Age` Spotify's side already gave it is taken off.
 */
export function freshnessOf (headers: Readonly<Record<string, string | string[]>>, now: number): number | undefined {
  const control = directivesOf(headers['cache-control'])
  if (control.has('no-store')) return undefined
  if (first(headers.vary)?.includes('*') === true) return undefined
  const validated = typeof first(headers.etag) === 'string'
  let lifetime: number | undefined
  if (control.has('no-cache')) lifetime = 0
  else if (control.has('max-age')) lifetime = (seconds(control.get('max-age')) ?? 0) * 1000
  else {
    const expires = first(headers.expires)
    if (expires !== undefined) {
      const date = Date.parse(first(headers.date) ?? '')
      const at = Date.parse(expires)
      lifetime = Number.isFinite(at) ? Math.max(0, at - (Number.isFinite(date) ? date : now)) : 0
    }
  }
  const age = (seconds(first(headers.age)) ?? 0) * 1000
  const fresh = Math.max(0, (lifetime ?? 0) - age)
  if (fresh === 0 && !validated) return undefined
  return fresh
}

/** What a caller's own request headers ask of the cache. */
export interface RequestDirectives {
  /** `no-store`: neither served from nor written to the cache. */
  readonly bypass: boolean
  /** `no-cache`, `max-age=0` or `Pragma: no-cache`: nothing served before Spotify confirmed it. */
  readonly revalidate: boolean
  /**
   * `max-stale=N` (RFC 9111 §5.2.1.2): how long past its freshness, in
   * seconds, the caller accepts an answer; `Infinity` for a bare
   * `max-stale` (any staleness); `undefined` when it does not say, or says
   * it in a form the RFC does not give (then the app's `cache.maxStale`).
   */
  readonly maxStale: number | undefined
}

/** A request that says nothing of caches (most do). */
const UNSAID: RequestDirectives = { bypass: false, revalidate: false, maxStale: undefined }

export function requestDirectivesOf (headers: Readonly<Record<string, string>>): RequestDirectives {
  if (headers['cache-control'] === undefined && headers.pragma === undefined) return UNSAID
  const control = directivesOf(headers['cache-control'])
  const stale = control.get('max-stale')
  return {
    bypass: control.has('no-store'),
    revalidate: control.has('no-cache') || control.get('max-age') === '0' || (headers.pragma ?? '').toLowerCase().includes('no-cache'),
    maxStale: stale === '' ? Infinity : seconds(stale)
  }
}

/**
 * Whether an answer with these headers may ever be served stale (RFC 9111
 * §4.2.4): not when it said `no-cache` or `must-revalidate`.
 * `proxy-revalidate` and `s-maxage` bind shared caches only (§5.2.2.8,
 * §5.2.2.10); this cache is private, per session, so they do not stop it.
 */
export function mayServeStale (headers: Readonly<Record<string, string | string[]>>): boolean {
  const control = directivesOf(headers['cache-control'])
  return !control.has('no-cache') && !control.has('must-revalidate')
}

/** Whether an `If-None-Match` list names `etag`, by weak comparison (RFC 9110 §13.1.2). */
export function etagMatches (ifNoneMatch: string, etag: string): boolean {
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag
  for (const part of ifNoneMatch.split(',')) {
    const tag = part.trim()
    if (tag === '*' || (tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true
  }
  return false
}
