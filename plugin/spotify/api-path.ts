/**
 * Checks the part of a proxied URL after `{proxyPrefix}/` so that the
 * forwarded URL stays under `{apiUrl}/v1/`. URL parsers (got's, the
 * upstream's, a CDN's) resolve dot segments and may treat `\` as `/`, so
 * anything that could be read as leaving the prefix is refused rather than
 * normalised: `.` and `..` segments (percent-encoded too, in any case, and
 * encoded more than once), empty segments (but for one trailing slash),
 * backslashes and fragments.
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
