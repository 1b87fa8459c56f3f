/*
 * What a cache between the app and the browser (a CDN, nginx's
 * `proxy_cache`, a corporate proxy) may do with a proxied answer: nothing
 * it could hand to another visitor. Spotify marks many answers `public`
 * because its own URL carried the bearer; through the proxy the same URL is
 * authenticated by a cookie, which a shared cache does not key on.
 */

import { memoized } from '../memo.js'

/** Directives that let a shared cache store (or keep serving) an answer: they go. */
function sharedOnly (directive: string): boolean {
  const name = directive.toLowerCase()
  return name === 'public' || name === 'proxy-revalidate' || name.startsWith('s-maxage')
}

/**
 * The upstream's `Cache-Control` made private: `public`, `s-maxage` and
 * `proxy-revalidate` dropped, `private` added unless `no-store` already
 * forbids storing. Without a header: `private` (a shared cache may otherwise
 * store a 200 by heuristics).
 */
export function privateCacheControl (upstream: string | string[] | undefined): string {
  return madePrivate(Array.isArray(upstream) ? upstream.join(',') : upstream ?? '')
}

const madePrivate = memoized((upstream: string): string => {
  const directives: string[] = []
  let closed = false
  for (const part of upstream.split(',')) {
    const directive = part.trim()
    if (directive === '' || sharedOnly(directive)) continue
    const name = directive.toLowerCase()
    if (name === 'private' || name === 'no-store') closed = true
    directives.push(directive)
  }
  if (!closed) directives.unshift('private')
  return directives.join(', ')
})

/**
 * The answer's `Vary`: the app's own (CORS adds `Origin`), then the Web
 * API's, then `Cookie`, each named once: the session cookie chose the
 * answer. `*` stays alone.
 */
export function varyWithCookie (own: unknown, upstream: string | string[] | undefined): string {
  return withCookie(`${own === undefined ? '' : String(own)},${Array.isArray(upstream) ? upstream.join(',') : upstream ?? ''}`)
}

const withCookie = memoized((lines: string): string => {
  const names: string[] = []
  const seen = new Set<string>()
  for (const line of [lines, 'Cookie']) {
    for (const part of line.split(',')) {
      const name = part.trim()
      if (name === '') continue
      if (name === '*') return '*'
      const key = name.toLowerCase()
      if (seen.has(key)) continue
      seen.add(key)
      names.push(name)
    }
  }
  return names.join(', ')
})

/**
 * The ETag of a body the proxy rewrote (its links point at the proxy): the
 * bytes differ from Spotify's, so a strong validator would lie; weak, it
 * still says "the same resource, equivalently", and a browser's
 * `If-None-Match` with it still matches upstream (weak comparison).
 */
export function weakened (etag: string | string[] | undefined): string | undefined {
  const value = Array.isArray(etag) ? etag[0] : etag
  if (value === undefined) return undefined
  return value.startsWith('W/') ? value : `W/${value}`
}
