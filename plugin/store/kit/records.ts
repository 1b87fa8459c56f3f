import { createSealer } from './sealing.js'
import type { SpotifyToken } from '../types.js'

/**
 * The record format every store that keeps sessions outside the process
 * shares, built from the plugin's `secret` list (`StoreContext.secrets`).
 *
 * - **Names.** A session's record is named by an HMAC of its session id, one
 *   name per secret, newest first: look a record up under all of them (a
 *   record written before a `secret` rotation keeps its old name until its
 *   next write), write it under the first. A user's index likewise, from the
 *   Spotify user id. No name holds an id.
 * - **Sealing.** A record's data is the token, encrypted with AES-256-GCM
 *   under the first secret and bound to where it is stored and to its
 *   version: a record copied under another name, or whose version was edited
 *   beside it (to roll it back, or to slip a write past a compare-and-set),
 *   no longer opens. A dump of the store yields neither tokens nor cookies.
 * - **Index members.** A user's index lists sessions by their id, sealed to
 *   the index: a dump names no session.
 *
 * A record that does not open reads as no session; a member that does not
 * open is no session of that user.
 */
export interface SealedRecords {
  /** The names a session's record may have, newest secret first: look up all, write the first. */
  names (sessionId: string): string[]
  /** The names a user's index may have, newest secret first. */
  userNames (userId: string): string[]
  /** `token`, sealed to `at` (where the record is stored: its name, or a key built from it) and to its version (`refreshes`). */
  seal (token: SpotifyToken, at: string): string
  /** The token in `data`, read at `at` beside `version`; `undefined` when it does not open there. */
  open (data: string, at: string, version: number | string): SpotifyToken | undefined
  /** `sessionId`, sealed as a member of the index stored at `index`. */
  member (sessionId: string, index: string): string
  /** The session id in a member of the index at `index`; `undefined` when it does not open there. */
  sessionOf (member: string, index: string): string | undefined
}

/**
 * What a record is bound to: where it is stored and its version. The
 * version sits in plaintext beside the sealed data (a compare-and-set
 * reads it there), so it is bound into the seal.
 */
function boundTo (at: string, version: number | string): string {
  return `${at}#${version}`
}

/** The sealed record format under `secrets` (the first seals; every one still opens). */
export function sealedRecords (secrets: readonly string[]): SealedRecords {
  const sealer = createSealer(secrets)
  return {
    names: (sessionId) => sealer.names(sessionId),
    userNames: (userId) => sealer.names(`user:${userId}`),
    seal: (token, at) => sealer.seal(token, boundTo(at, token.refreshes)),
    open: (data, at, version) => sealer.open<SpotifyToken>(data, boundTo(at, version)),
    member: (sessionId, index) => sealer.seal(sessionId, index),
    sessionOf: (member, index) => sealer.open<string>(member, index)
  }
}
