import { createHash, randomBytes } from 'node:crypto'
import {
  createSpotifyEmulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI,
  type EmulatorOptions, type SpotifyEmulator
} from '../../plugin/emulator/index.js'

export { DEFAULT_CLIENT_ID as CLIENT_ID, DEFAULT_CLIENT_SECRET as CLIENT_SECRET, DEFAULT_REDIRECT_URI as REDIRECT_URI }

/** The part of tap's Test the helpers use. */
interface Teardown { teardown (fn: () => unknown): void }

/** A fresh emulator, closed when the test ends. */
export async function start (t: Teardown, options?: EmulatorOptions): Promise<SpotifyEmulator> {
  const emulator = await createSpotifyEmulator(options)
  t.teardown(() => emulator.close())
  return emulator
}

export function basic (id: string = DEFAULT_CLIENT_ID, secret: string = DEFAULT_CLIENT_SECRET): string {
  return 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64')
}

export interface Answer {
  status: number
  headers: Headers
  text: string
  /** The body parsed as JSON; `undefined` when it is not JSON. */
  json: any
}

async function answer (response: Response): Promise<Answer> {
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

/** Any request, redirects not followed. */
export async function call (url: string, init: RequestInit = {}): Promise<Answer> {
  return answer(await fetch(url, { redirect: 'manual', ...init }))
}

/** `POST /api/token` with a form body and, unless `auth` is `null`, the default client's Basic credentials. */
export async function token (emulator: SpotifyEmulator, form: Record<string, string>, auth: string | null = basic()): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (auth !== null) headers.authorization = auth
  return call(`${emulator.url}/api/token`, { method: 'POST', headers, body: new URLSearchParams(form).toString() })
}

/** A `/v1` call with a bearer token. */
export async function api (emulator: SpotifyEmulator, path: string, accessToken?: string, init: RequestInit = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) }
  if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`
  return call(`${emulator.url}${path}`, { ...init, headers })
}

/** A PKCE verifier and its S256 challenge. */
export function pkce (): { verifier: string, challenge: string } {
  const verifier = randomBytes(48).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** Authorization parameters for the default client, overridable. */
export function authorizeParams (extra: Record<string, string> = {}): Record<string, string> {
  return { client_id: DEFAULT_CLIENT_ID, response_type: 'code', redirect_uri: DEFAULT_REDIRECT_URI, state: 'st4te', ...extra }
}

/** A code for the default client through `control.authorize`. */
export function code (emulator: SpotifyEmulator, extra: Record<string, string> = {}, userId?: string): string {
  const location = emulator.control.authorize(authorizeParams(extra), userId)
  return new URL(location).searchParams.get('code')!
}
