/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1):
 * whatever forwards a message to the Web API, or an answer back, drops them.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authenticate', 'proxy-authorization'
])

/**
 * The header names a message's `Connection` lists, lower-case: they are for
 * that hop only, and are not passed on either. `undefined` when it lists
 * nothing but `keep-alive` or `close` (the usual case, decided without a
 * split).
 */
export function namedInConnection (value: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined
  const names = new Set<string>()
  for (const token of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const name = token.trim().toLowerCase()
    if (name !== '' && name !== 'keep-alive' && name !== 'close') names.add(name)
  }
  return names.size === 0 ? undefined : names
}

/**
 * The end-to-end headers of a client's request, for the call policy: no
 * hop-by-hop header, nothing `Connection` names, no `host` or
 * `content-length` (the transport sets both for what it sends) and no
 * `authorization` (the policy sets the bearer itself). Names come out
 * lower-case; a repeated header, as one comma-separated value.
 */
export function endToEndHeaders (headers: Iterable<[string, string | string[]]>, connection: string | string[] | undefined): Record<string, string> {
  const named = namedInConnection(connection)
  const kept: Record<string, string> = {}
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase()
    if (HOP_BY_HOP.has(name) || OWN.has(name) || named?.has(name) === true) continue
    kept[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return kept
}

const OWN: ReadonlySet<string> = new Set(['authorization', 'host', 'content-length'])
