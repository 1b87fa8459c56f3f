/**
 * The one place a bearer token may go: `{apiUrl}/v1/`. Every client turns
 * what it was asked for into a {@link WebApiTarget} here, and the call
 * policy sends nothing else.
 */

declare const checked: unique symbol

/**
 * A request target under `{apiUrl}/v1/` that passed the rule: the path from
 * the origin (`/v1/me/playlists?limit=2`, still percent-encoded as the client
 * wrote it) with its query. Only this module makes one.
 */
export type WebApiTarget = string & { readonly [checked]: true }

/**
 * Checks the part of a URL after `{apiUrl}/v1/` so that the request stays
 * there. URL parsers (ours, the upstream's, a CDN's) resolve dot segments and
 * may treat `\` as `/`, so anything that could be read as leaving the prefix
 * is refused rather than normalised: `.` and `..` segments (percent-encoded
 * too, in any case, and encoded more than once), empty segments (but for one
 * trailing slash), backslashes and fragments.
 *
 * Returns the path unchanged (still percent-encoded, as the client sent it),
 * or `undefined` when it must be refused.
 */
export function safeApiPath (path: string): string | undefined {
  if (path.includes('#')) return undefined
  // One trailing slash is how some clients write a path (`me/`), and the
  // Web API serves it; the segments before it are checked as strictly.
  let decoded = path.endsWith('/') ? path.slice(0, -1) : path
  // Three decoding rounds cover any double-decoding peer; what is still
  // encoded after them is refused rather than trusted.
  for (let round = 0; round < 4; round++) {
    if (decoded.includes('\\') || hasUnsafeSegment(decoded)) return undefined
    if (!decoded.includes('%')) return path
    try {
      decoded = decodeURIComponent(decoded)
    } catch {
      return undefined
    }
  }
  return undefined
}

/**
 * `;` (matrix parameters: some servers read `..;` as `..`), controls (a NUL
 * may cut a path short) and anything outside ASCII (full-width dots): the
 * Web API's paths need none of them.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARACTER = /[;\u0000-\u001f\u007f-\uffff]/

function hasUnsafeSegment (path: string): boolean {
  if (UNSAFE_CHARACTER.test(path)) return true
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return true
  }
  return false
}

/** The rule for one `apiUrl`. */
export interface WebApiUrlRule {
  /** `{apiUrl}/v1/`, for clients that resolve relative input against it. */
  readonly base: URL
  /**
   * The target of `path` (what follows `{apiUrl}/v1/`, as the client wrote
   * it) and `query` (`''` or `?…`), or `undefined` when it must be refused.
   */
  relative (path: string, query: string): WebApiTarget | undefined
  /**
   * The target of an absolute URL (as an HTTP client will request it, dot
   * segments resolved), or `undefined` unless it lies under `{apiUrl}/v1/`
   * with no credentials in it.
   */
  absolute (url: URL): WebApiTarget | undefined
}

/** The URL rule for `apiUrl` (as options resolve it: no trailing slash). */
export function webApiUrlRule (apiUrl: string): WebApiUrlRule {
  const base = new URL(`${apiUrl}/v1/`)
  const basePath = base.pathname

  function relative (path: string, query: string): WebApiTarget | undefined {
    const safe = safeApiPath(path)
    return safe === undefined ? undefined : basePath + safe + query as WebApiTarget
  }

  return {
    base,
    relative,
    absolute (url) {
      if (url.origin !== base.origin || !url.pathname.startsWith(basePath) || url.username !== '' || url.password !== '') return undefined
      return relative(url.pathname.slice(basePath.length), url.search)
    }
  }
}
