/**
 * The Web API's paging and object links (`next`, `previous`, `href`) are
 * absolute `{apiUrl}/v1/…` URLs: a page behind the proxy can only follow
 * them once they point at the proxy instead.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const MEMBERS = ['"href"', '"next"', '"previous"']

export interface LinkRewriter {
  /** The body with its links rewritten, or `undefined` when it has none to rewrite. */
  (body: Buffer): Buffer | undefined
}

function isSpace (code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09
}

/**
 * Whether the `{apiUrl}/v1/` found at `at` starts the value of a `href`,
 * `next` or `previous` member: `"name" : "` right before it. Inside a JSON
 * string every `"` is escaped, so text that merely mentions a link (a
 * description) never passes: its quote has a backslash before it.
 */
function startsLinkMember (text: string, at: number): boolean {
  let i = at - 1
  if (text.charCodeAt(i) !== QUOTE || text.charCodeAt(i - 1) === BACKSLASH) return false
  i--
  while (isSpace(text.charCodeAt(i))) i--
  if (text.charCodeAt(i) !== COLON) return false
  i--
  while (isSpace(text.charCodeAt(i))) i--
  const end = i + 1
  return MEMBERS.some((name) => text.startsWith(name, end - name.length))
}

/**
 * Rewrites links under `upstreamBase` (`{apiUrl}/v1/`) to `localBase` (the
 * proxy's own path, `/spotify/`), byte for byte around them: the rest of each
 * link (path and query) and every other member, `external_urls` and
 * `images` included, stay as they were. Nothing is parsed or decoded: the
 * body is read as Latin-1, one character per byte, so that string offsets
 * are byte offsets and the search runs in JavaScript, not one native call
 * per link. The Web API writes its links plainly (no `\/`).
 */
export function linkRewriter (upstreamBase: string, localBase: string): LinkRewriter {
  const marker = Buffer.from(upstreamBase)
  const markerText = marker.toString('latin1')
  // The proxy's prefix is an ASCII path: the same bytes in Latin-1.
  return (body) => {
    // The usual answer without links (a track, a 204) costs one byte scan.
    if (!body.includes(marker)) return undefined
    const text = body.toString('latin1')
    // Slices and one final copy: cheaper than a Buffer per piece.
    let rewritten = ''
    let copied = 0
    for (let found = text.indexOf(markerText); found !== -1; found = text.indexOf(markerText, found + markerText.length)) {
      if (startsLinkMember(text, found)) {
        rewritten += text.slice(copied, found) + localBase
        copied = found + markerText.length
      }
    }
    if (copied === 0) return undefined
    return Buffer.from(rewritten + text.slice(copied), 'latin1')
  }
}

/** Whether a response's body is JSON that the rewriter may read: identity-encoded JSON. */
export function rewritable (contentType: string | string[] | undefined, contentEncoding: string | string[] | undefined): boolean {
  if (typeof contentType !== 'string') return false
  if (contentEncoding !== undefined && contentEncoding !== 'identity') return false
  const semicolon = contentType.indexOf(';')
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  return type === 'application/json' || type.endsWith('+json')
}
