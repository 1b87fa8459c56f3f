import type { SpotifyToken, TokenStore } from './types.js'

/**
 * A synchronous read, for a store that holds its sessions in this process
 * (the memory store). It lets a request whose token is fresh go on without
 * waiting for a promise; it is kept off the public store contract because
 * only a store without I/O can offer it.
 */
export const kPeek = Symbol('fastify-spotify-auth.peek')

export type Peek = (sessionId: string) => SpotifyToken | undefined

export function peekOf (store: TokenStore): Peek | undefined {
  return (store as TokenStore & { [kPeek]?: Peek })[kPeek]
}
