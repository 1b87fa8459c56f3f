/**
 * Heap bytes per session of memoryStore(), run by bench/run.ts in its own
 * process: `node --expose-gc --import tsx bench/memory.ts <variant> <sessions>`.
 * Prints one JSON line.
 *
 * Tokens are made the way the plugin makes them: a Spotify-shaped token
 * response body parsed with JSON.parse, then turned into the stored token by
 * the plugin's own `tokenFromResponse()`.
 */
import { randomBytes } from 'node:crypto'
import { memoryStore } from '../plugin/index.js'
import { tokenFromResponse, type TokenResponse } from '../plugin/accounts/token-endpoint.js'

export const VARIANTS = ['strings', 'store'] as const
export type Variant = typeof VARIANTS[number]

export interface MemoryResult {
  variant: Variant
  sessions: number
  heapBefore: number
  heapAfter: number
  bytesPerSession: number
  /** access token + refresh token + session id characters (one byte each). */
  rawBytesPerSession: number
  ratio: number
  lengths: { accessToken: number, refreshToken: number, sessionId: number }
}

const SCOPE = 'user-read-private user-read-email playlist-read-private playlist-read-collaborative'
/** Spotify's access tokens are ~200+ characters (`BQ…`), refresh tokens ~130 (`AQ…`), our session ids 43. */
const ACCESS_BYTES = 156 // → 'BQ' + 208 characters
const REFRESH_BYTES = 96 // → 'AQ' + 128 characters

function responseBody (): string {
  return JSON.stringify({
    access_token: 'BQ' + randomBytes(ACCESS_BYTES).toString('base64url'),
    token_type: 'Bearer',
    expires_in: 3600,
    refresh_token: 'AQ' + randomBytes(REFRESH_BYTES).toString('base64url'),
    scope: SCOPE
  })
}

function settledHeap (): number {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect === undefined) throw new Error('bench/memory.ts needs node --expose-gc')
  for (let i = 0; i < 3; i++) collect()
  return process.memoryUsage().heapUsed
}

async function measure (variant: Variant, sessions: number): Promise<MemoryResult> {
  const strings: string[] = []
  const store = memoryStore({ maxSessions: sessions })
  let raw = 0
  const lengths = { accessToken: 0, refreshToken: 0, sessionId: 0 }

  const heapBefore = settledHeap()
  for (let i = 0; i < sessions; i++) {
    const sessionId = randomBytes(32).toString('base64url')
    const body = JSON.parse(responseBody()) as Required<TokenResponse>
    raw += body.access_token.length + body.refresh_token.length + sessionId.length
    if (i === 0) lengths.accessToken = body.access_token.length
    if (i === 0) lengths.refreshToken = body.refresh_token.length
    if (i === 0) lengths.sessionId = sessionId.length
    switch (variant) {
      case 'strings': strings.push(sessionId, body.access_token, body.refresh_token); break
      case 'store': await store.set(sessionId, { userId: 'alice', ...tokenFromResponse(body, { refreshToken: '', scope: [], refreshes: 0, authorizedAt: Math.floor(Date.now() / 1000) }) }); break
    }
  }
  const heapAfter = settledHeap()
  // Keep everything reachable until after the second measure.
  if (strings.length < 0 || (await store.get('')) !== undefined) throw new Error('unreachable')

  const bytesPerSession = (heapAfter - heapBefore) / sessions
  const rawBytesPerSession = raw / sessions
  return { variant, sessions, heapBefore, heapAfter, bytesPerSession, rawBytesPerSession, ratio: bytesPerSession / rawBytesPerSession, lengths }
}

const [variant = 'store', sessions = '100000'] = process.argv.slice(2)
if (!(VARIANTS as readonly string[]).includes(variant)) throw new Error(`bench/memory.ts: unknown variant ${variant}`)
process.stdout.write(JSON.stringify(await measure(variant as Variant, Number(sessions))) + '\n')
