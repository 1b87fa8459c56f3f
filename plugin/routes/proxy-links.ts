/**
 * The Web API's paging and object links (`next`, `previous`, `href`) are
 * absolute `{apiUrl}/v1/…` URLs: a page behind the proxy can only follow
 * them once they point at the proxy instead.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const MEMBERS = ['"href"', '"next"', '"previous"'].map((name) => Buffer.from(name))

export interface LinkRewriter {
  /** The body with its links rewritten, or `undefined` when it has none to rewrite. */
  (body: Buffer): Buffer | undefined
}

function isSpace (byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
}

/**
 * Whether the `{apiUrl}/v1/` found at `at` starts the value of a `href`,
 * `next` or `previous` member: `"name" : "` right before it. Inside a JSON
 * string every `"` is escaped, so text that merely mentions a link (a
 * description) never passes: its quote has a backslash before it.
 */
function startsLinkMember (body: Buffer, at: number): boolean {
  let i = at - 1
  if (body[i] !== QUOTE || body[i - 1] === BACKSLASH) return false
  i--
  while (isSpace(body[i])) i--
  if (body[i] !== COLON) return false
  i--
  while (isSpace(body[i])) i--
  const end = i + 1
  return MEMBERS.some((name) => end >= name.length && body.compare(name, 0, name.length, end - name.length, end) === 0)
}

/**
 * Rewrites links under `upstreamBase` (`{apiUrl}/v1/`) to `localBase` (the
 * proxy's own path, `/spotify/`), byte for byte around them: the rest of each
 * link (path and query) and every other member, `external_urls` and
 * `images` included, stay as they were. Works on the bytes, without decoding
 * or parsing the body: the Web API writes its links plainly (no `\/`).
 */
export function linkRewriter (upstreamBase: string, localBase: string): LinkRewriter {
  const marker = Buffer.from(upstreamBase)
  const local = Buffer.from(localBase)
  return (body) => {
    let found = body.indexOf(marker)
    // The usual answer without links (a track, a 204) costs one byte scan.
    if (found === -1) return undefined
    const parts: Buffer[] = []
    let copied = 0
    while (found !== -1) {
      if (startsLinkMember(body, found)) {
        parts.push(body.subarray(copied, found), local)
        copied = found + marker.length
      }
      found = body.indexOf(marker, found + marker.length)
    }
    if (copied === 0) return undefined
    parts.push(body.subarray(copied))
    return Buffer.concat(parts)
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
