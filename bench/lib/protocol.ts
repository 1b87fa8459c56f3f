/** Messages between the load generator (main process) and the server process. */

export interface ServerInfo {
  /** The static upstream (target 1) and what the proxies forward to. */
  upstreamUrl: string
  /** The app with fastify-spotify-auth registered (targets 3, 4a, 4b). */
  appUrl: string
  /** The app with @fastify/http-proxy (target 2). */
  peerUrl: string
  /** The app with fastify-spotify-auth and `proxyRewriteLinks: false` (target 3q). */
  plainUrl: string
  /** `spotify_session=…` of a logged-in session with a fresh token. */
  cookie: string
  emulatorUrl: string
}

export interface CpuSample {
  /** process.cpuUsage() of the server process, µs. */
  user: number
  system: number
  /** process.hrtime in µs, to turn CPU time into a share of wall time. */
  at: number
}

export interface StormSession {
  cookie: string
  /** The access token issued at login (so counting as expired for the storm session). */
  loginAccessToken: string
}

export interface StormCheck {
  /** Calls to the emulator's token endpoint with grant_type=refresh_token since the session was made. */
  refreshCalls: number
  /** The session's token after the storm. */
  refreshes: number
  accessTokenChanged: boolean
  /** `authorization` headers the upstream received during the storm: how many distinct, and how many carried the stored token. */
  distinctAuthorizations: number
  upstreamCallsWithStoredToken: number
  upstreamCalls: number
}

export type Command =
  | { id: number, command: 'cpu' }
  | { id: number, command: 'storm-session', expired: boolean }
  | { id: number, command: 'storm-check', cookie: string }
  | { id: number, command: 'mark' }
  | { id: number, command: 'close' }

export type Reply =
  | { type: 'ready', info: ServerInfo }
  | { type: 'result', id: number, ok: true, result: unknown }
  | { type: 'result', id: number, ok: false, error: string }

/** The session id inside a signed `spotify_session=<id>.<signature>` cookie. */
export function sessionIdOf (cookie: string): string {
  const value = cookie.slice(cookie.indexOf('=') + 1)
  return value.slice(0, value.lastIndexOf('.'))
}
