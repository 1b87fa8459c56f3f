import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildDemo, type Demo, type DemoOptions } from '../../demo/app.js'
import { loadConfig, type DemoConfig, type Env } from '../../demo/config.js'

/** A valid SESSION_SECRET for tests. */
export const SESSION_SECRET = 'a-demo-session-secret-of-32-chars-at-least'

/** What a browser sends when it navigates. */
export const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'

/** The part of tap's Test the helpers use. */
interface Teardown { teardown (fn: () => unknown): void }

/** The demo's configuration from a test environment: silent logs and a fixed session secret unless given. */
export function testConfig (env: Env = {}): DemoConfig {
  return loadConfig({ SESSION_SECRET, LOG_LEVEL: 'silent', ...env })
}

/** The demo built from `env` (emulator with `autoApprove` unless `options` say otherwise), closed at teardown. */
export async function startDemo (t: Teardown, env: Env = {}, options: DemoOptions = { emulator: { autoApprove: true } }): Promise<Demo> {
  const demo = await buildDemo(testConfig(env), options)
  t.teardown(() => demo.close())
  return demo
}

export { freePort } from './ports.js'

export interface RequestOptions {
  method?: string
  url: string
  /** Send the Accept header of a browser navigation (default) or of a script. */
  html?: boolean
  headers?: Record<string, string>
  payload?: string
}

/** A browser for `app.inject`: keeps cookies, and follows the login through the emulator. */
export class Browser {
  readonly cookies = new Map<string, string>()
  readonly app: FastifyInstance

  constructor (app: FastifyInstance) {
    this.app = app
  }

  async request (options: RequestOptions): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { accept: options.html === false ? 'application/json' : BROWSER_ACCEPT, ...options.headers }
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await this.app.inject({
      method: (options.method ?? 'GET') as 'GET',
      url: options.url,
      headers,
      ...(options.payload === undefined ? {} : { payload: options.payload })
    })
    for (const cookie of response.cookies as Array<{ name: string, value: string, maxAge?: number }>) {
      if (cookie.value === '' || cookie.maxAge === 0) this.cookies.delete(cookie.name)
      else this.cookies.set(cookie.name, cookie.value)
    }
    return response
  }

  /** Starts a login: the URL of the emulator's `/authorize` the demo redirects to. */
  async startLogin (): Promise<URL> {
    const start = await this.request({ url: '/login' })
    return new URL(start.headers.location as string)
  }

  /** Comes back to the demo at the URL the emulator redirected to. */
  async back (location: string): Promise<LightMyRequestResponse> {
    const url = new URL(location)
    return this.request({ url: url.pathname + url.search })
  }

  /** A whole login against an emulator with `autoApprove`; resolves the callback's response. */
  async login (): Promise<LightMyRequestResponse> {
    const authorize = await fetch(await this.startLogin(), { redirect: 'manual' })
    return this.back(authorize.headers.get('location') as string)
  }

  /** A login on the emulator's consent page, pressing `decision` as `userId`. */
  async consent (decision: 'agree' | 'cancel', userId = 'alice'): Promise<LightMyRequestResponse> {
    const authorize = await this.startLogin()
    const form = new URLSearchParams(authorize.searchParams)
    form.set('decision', decision)
    form.set('user_id', userId)
    const answer = await fetch(new URL('/authorize/decision', authorize), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString()
    })
    return this.back(answer.headers.get('location') as string)
  }

  /**
   * Who the page's header names: the display name `GET /session` answers,
   * as the page's script reads it; `undefined` without a session.
   */
  async loggedInAs (): Promise<string | undefined> {
    const answer = await this.request({ url: '/session', html: false })
    return answer.statusCode === 200 ? answer.json().user.displayName : undefined
  }

  /** The session id behind the session cookie. */
  get sessionId (): string {
    return (this.cookies.get('spotify_session') as string).split('.')[0] as string
  }
}
