import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance, type FastifyServerOptions, type LightMyRequestResponse } from 'fastify'
import spotifyAuth, { type SpotifyAuthOptions } from '../../plugin/index.js'
import { createSpotifyEmulator, type EmulatorOptions, type SpotifyEmulator } from '../../plugin/emulator/index.js'

export const CLIENT_ID = 'test-client-id'
export const CLIENT_SECRET = 'test-client-secret-that-must-never-leak'
export const REDIRECT_URI = 'http://127.0.0.1:5543/callback'
export const SECRET = 'a-session-secret-of-at-least-32-chars!'
export const SCOPES = ['user-read-private', 'user-read-email', 'playlist-read-private', 'playlist-read-collaborative']

/** The part of tap's Test that the helpers use. */
interface Teardown { teardown (fn: () => unknown): void }

/** A tiny cookie jar over light-my-request responses. */
export class CookieJar {
  readonly cookies = new Map<string, string>()

  take (response: LightMyRequestResponse): void {
    for (const cookie of response.cookies as Array<{ name: string, value: string, maxAge?: number, expires?: Date }>) {
      const expired = cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now())
      if (expired || cookie.value === '') this.cookies.delete(cookie.name)
      else this.cookies.set(cookie.name, cookie.value)
    }
  }

  get header (): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

export interface Built {
  app: FastifyInstance
  emulator: SpotifyEmulator
  /** Every log line the app wrote, as raw text. */
  logs: string[]
  /** Runs the whole login through the emulator; returns the jar holding the session cookie. */
  login (jar?: CookieJar, returnTo?: string): Promise<{ jar: CookieJar, callback: LightMyRequestResponse }>
  /** Injects with the jar's cookies, keeping what the response sets. */
  request (jar: CookieJar, options: { method?: string, url: string, headers?: Record<string, string>, payload?: string | Buffer | object }): Promise<LightMyRequestResponse>
}

export interface BuildOptions {
  plugin?: Partial<SpotifyAuthOptions>
  emulator?: EmulatorOptions
  /** Plugins to register before this one (those that watch routes being added: @fastify/swagger, @fastify/cors). */
  first?: (app: FastifyInstance) => void | Promise<void>
  /** Routes or hooks to add before ready(). */
  before?: (app: FastifyInstance) => void | Promise<void>
  /** Fastify's own options (the logger is always the captured one). */
  fastify?: FastifyServerOptions
  /** Reuse a running emulator instead of starting one. */
  sharedEmulator?: SpotifyEmulator
}

/** A Fastify app with the plugin registered against a fresh emulator, both closed at teardown. */
export async function build (t: Teardown, options: BuildOptions = {}): Promise<Built> {
  let emulator = options.sharedEmulator
  if (emulator === undefined) {
    emulator = await createSpotifyEmulator({
      autoApprove: true,
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI], name: 'Test App' }],
      ...options.emulator
    })
    const started = emulator
    t.teardown(() => started.close())
  }
  const logs: string[] = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      logs.push(String(chunk))
      callback()
    }
  })
  const app = Fastify({ ...options.fastify, logger: { level: 'trace', stream } })
  await options.first?.(app)
  await app.register(spotifyAuth, {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    secret: SECRET,
    scopes: SCOPES,
    accountsUrl: emulator.url,
    apiUrl: emulator.url,
    timeout: 2000,
    // Tests of everything else count what reaches Spotify read by read: no
    // standing max-stale (the cache's tests set their own).
    cache: { maxStale: 0 },
    ...options.plugin
  })
  await options.before?.(app)
  await app.ready()
  t.teardown(() => app.close())

  async function request (jar: CookieJar, opts: Parameters<Built['request']>[1]): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { ...opts.headers }
    if (jar.cookies.size > 0) headers.cookie = jar.header
    const response = await app.inject({
      method: (opts.method ?? 'GET') as 'GET',
      url: opts.url,
      headers,
      ...(opts.payload === undefined ? {} : { payload: opts.payload })
    })
    jar.take(response)
    return response
  }

  async function login (jar = new CookieJar(), returnTo?: string): Promise<{ jar: CookieJar, callback: LightMyRequestResponse }> {
    const start = await request(jar, { url: returnTo === undefined ? '/login' : `/login?returnTo=${encodeURIComponent(returnTo)}` })
    const authorize = await fetch(start.headers.location as string, { redirect: 'manual' })
    const back = new URL(authorize.headers.get('location') as string)
    const callback = await request(jar, { url: back.pathname + back.search })
    return { jar, callback }
  }

  return { app, emulator, logs, login, request }
}

/** The URL of a server that has just closed: connections to it are refused. */
export async function deadUrl (): Promise<string> {
  const emulator = await createSpotifyEmulator()
  await emulator.close()
  return emulator.url
}

/** Every log line parsed as JSON. */
export function parsedLogs (logs: string[]): Array<Record<string, unknown>> {
  return logs.map((line) => JSON.parse(line) as Record<string, unknown>)
}
