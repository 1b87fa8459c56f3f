/**
 * The Web API's paging and object links (`next`, `previous`, `href`) are
 * absolute `{apiUrl}/v1/…` URLs: a page behind the proxy can only follow
 * them once they point at the proxy instead.
 */

/**
 * A `"next"`, `"previous"` or `"href"` member whose value is a JSON string.
 * Inside a JSON string every `"` is escaped, so a member name can only match
 * where the JSON has a real member: text in a description never does.
 */
const LINK = /"(next|previous|href)"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g

export interface LinkRewriter {
  /** The body with its links rewritten, or `undefined` when it has none to rewrite. */
  (body: Buffer): Buffer | undefined
}

/**
 * Rewrites links under `upstreamBase` (`{apiUrl}/v1/`) to `localBase` (the
 * proxy's own path, `/spotify/`), keeping the rest of each link (path and
 * query) as it was. Every other member, `external_urls` and `images`
 * included, is left byte for byte.
 */
export function linkRewriter (upstreamBase: string, localBase: string): LinkRewriter {
  const marker = Buffer.from(upstreamBase)
  return (body) => {
    // The usual answer without links (a track, a 204) costs one byte scan.
    if (!body.includes(marker)) return undefined
    const text = body.toString('utf8')
    let changed = false
    const rewritten = text.replace(LINK, (member, name: string, colon: string, raw: string) => {
      // A link escaped some other way (`\/`, `\u…`) compares after decoding.
      const value = raw.includes('\\') ? JSON.parse(`"${raw}"`) as string : raw
      if (!value.startsWith(upstreamBase)) return member
      changed = true
      return `"${name}"${colon}${JSON.stringify(localBase + value.slice(upstreamBase.length))}`
    })
    return changed ? Buffer.from(rewritten) : undefined
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
