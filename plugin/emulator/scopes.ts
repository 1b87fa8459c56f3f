import { SCOPES } from '../accounts/scopes.js'

// The list is the plugin's: its options are checked against the same one.
export { SCOPES }

/** What Spotify's consent page promises when no scope is requested. */
export const NO_SCOPE_DESCRIPTION = 'Read your publicly available information.'

/**
 * Splits a `scope` parameter the way Spotify reads it: space separated,
 * repeated blanks ignored, duplicates dropped, order kept.
 */
export function parseScopes (raw: string | null | undefined): string[] {
  if (raw == null) return []
  return [...new Set(raw.split(' ').filter((s) => s !== ''))]
}

/** The first scope Spotify would not recognise, or `undefined`. */
export function unknownScope (scopes: readonly string[]): string | undefined {
  return scopes.find((s) => !SCOPES.has(s))
}
