/*
 * Which Redis failures say "Redis (or the part of a Cluster that holds this
 * key) is unreachable or switching masters", as opposed to a bug or a bad
 * value. Those open the store's fail-fast window (./guard.ts); every
 * store failure becomes a 503 FST_SPOTIFY_STORE_UNAVAILABLE either way
 * (plugin/failures.ts).
 */

/** Error replies of a server that is not, or not yet, the master for the key. */
const REPLY_PREFIXES = ['CLUSTERDOWN', 'TRYAGAIN', 'MOVED', 'ASK', 'READONLY', 'LOADING', 'MASTERDOWN']

/** The clients' own messages when they cannot deliver a command (ioredis, then node-redis). */
const CLIENT_MESSAGES = [
  'Too many Cluster redirections',
  'Connection is closed',
  "Stream isn't writeable",
  'Cluster isn\'t ready',
  'None of startup nodes is available',
  'Failed to refresh slots cache',
  'did not answer within',
  'The client is closed',
  'The client is offline',
  'Socket closed unexpectedly',
  'Connection timeout',
  'All the root nodes are unavailable'
]

/** Socket errors of a server that went away. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'])

/** A failure of the connection or of the topology (down, failing over, hung), not of the command. */
export function isConnectionFailure (error: unknown): boolean {
  const e = error as { message?: unknown, code?: unknown } | null | undefined
  if (typeof e?.code === 'string' && SOCKET_CODES.has(e.code)) return true
  const message = typeof e?.message === 'string' ? e.message : ''
  return REPLY_PREFIXES.some((prefix) => message.startsWith(prefix + ' ') || message === prefix) ||
    CLIENT_MESSAGES.some((text) => message.includes(text))
}
