/**
 * The apps in examples/, run as a user runs them: each starts as a process of
 * its own (tsx, which maps the package name onto this repository's source
 * through examples/tsconfig.json), against the emulator, and is logged in to
 * over HTTP. One test file per example, so that each has tap's whole time
 * budget and they run side by side.
 */
import { spawn } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { createSpotifyEmulator, type SpotifyEmulator } from '../../plugin/emulator/index.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url))
/** Longest wait for an example to start, log a line or exit. */
const BOUND = 15_000
export const CLIENT = { clientId: 'example-app', clientSecret: 'example-app-secret' }
export const SESSION_SECRET = 'an-examples-session-secret-of-32-chars'
/** What the examples read from the environment: never inherited from the test's own. */
const EXAMPLE_VARIABLES = [
  'PORT', 'HOST', 'SPOTIFY_CLIENT_ID', 'SPOTIFY_CLIENT_SECRET', 'SPOTIFY_REDIRECT_URI', 'SESSION_SECRET',
  'SPOTIFY_ACCOUNTS_URL', 'SPOTIFY_API_URL', 'SYNC_EVERY_MS', 'DATABASE_URL'
]

/** `promise`, or a rejection naming `what` after BOUND. */
export async function within<T> (promise: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what()}: nothing within ${BOUND} ms`)), BOUND)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/** A running example: its origin, its output, its log lines parsed. */
export class Example {
  readonly stdout: string[] = []
  readonly stderr: string[] = []
  readonly #lines = new EventEmitter()
  readonly exit: Promise<number | null>
  readonly #child
  origin = ''

  constructor (t: Test, args: string[], env: Record<string, string>) {
    const base: NodeJS.ProcessEnv = { ...process.env }
    for (const name of EXAMPLE_VARIABLES) delete base[name]
    // tap still tracks the child; this tells it to record no coverage there
    // (tsx's transpiled code would be reported against the sources).
    base._TAPJS_PROCESSINFO_COVERAGE_ = '0'
    this.#child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: EXAMPLES,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const child = this.#child
    t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.stdout.push(line)
      this.#lines.emit('line')
    })
    createInterface({ input: child.stderr }).on('line', (line) => this.stderr.push(line))
    // 'close', not 'exit': by then stdout and stderr are read to the end.
    this.exit = once(child, 'close').then(([code]) => code as number | null)
  }

  /** Starts `file` (relative to examples/) and resolves once it listens. */
  static async start (t: Test, file: string, env: Record<string, string>): Promise<Example> {
    const example = new Example(t, [file], env)
    const listening = await example.log((entry) => typeof entry.msg === 'string' && entry.msg.startsWith('Server listening at '))
    example.origin = (listening.msg as string).slice('Server listening at '.length)
    return example
  }

  /** Runs `args` (after tsx) to its end: resolves the exit code, its output read. */
  static async run (t: Test, args: string[]): Promise<Example & { code: number | null }> {
    const run = new Example(t, args, {})
    return Object.assign(run, { code: await within(run.exit, () => `the end of ${args.join(' ')}`) })
  }

  /** The log entries (pino's JSON lines) so far. */
  entries (): Array<Record<string, unknown>> {
    return this.stdout.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>]
      } catch {
        return []
      }
    })
  }

  /** The first log entry, from `from` on, that `matches`; waits for it (within BOUND). */
  async log (matches: (entry: Record<string, unknown>) => boolean, from = 0): Promise<Record<string, unknown>> {
    const describe = (): string => `a log line of ${this.#child.spawnargs.join(' ')} (stdout: ${this.stdout.join(' | ')}; stderr: ${this.stderr.join(' | ')})`
    const deadline = Date.now() + BOUND
    for (;;) {
      const found = this.entries().slice(from).find(matches)
      if (found !== undefined) return found
      if (Date.now() > deadline) throw new Error(`${describe()}: nothing within ${BOUND} ms`)
      await within(Promise.race([
        once(this.#lines, 'line'),
        this.exit.then(() => { throw new Error(`the example exited: ${describe()}`) })
      ]), describe)
    }
  }

  /** Sends `signal` and resolves the exit code. */
  stop (signal: NodeJS.Signals): Promise<number | null> {
    this.#child.kill(signal)
    return within(this.exit, () => `exit after ${signal}`)
  }
}

/** A browser without a browser: keeps the app's cookies and goes through the login. */
export class Visitor {
  readonly cookies = new Map<string, string>()
  readonly origin: string

  constructor (origin: string) {
    this.origin = origin
  }

  async fetch (path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '))
    const response = await fetch(new URL(path, this.origin), { ...init, headers, redirect: 'manual' })
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.slice(0, cookie.indexOf(';'))
      const name = pair.slice(0, pair.indexOf('='))
      const value = pair.slice(pair.indexOf('=') + 1)
      if (value === '' || /max-age=0(;|$)/i.test(cookie)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return response
  }

  /**
   * `/login`, the emulator's consent page ("Agree" as `userId`), then the
   * callback: resolves the callback's answer.
   */
  async logIn (t: Test, userId = 'alice'): Promise<Response> {
    const login = await this.fetch('/login')
    t.equal(login.status, 302, '/login redirects to the authorize page')
    const authorize = new URL(login.headers.get('location') as string)
    const consent = await fetch(authorize)
    t.match(await consent.text(), /<form method="post" action="\/authorize\/decision">/, 'the consent page asks')
    const form = new URLSearchParams(authorize.searchParams)
    form.set('decision', 'agree')
    form.set('user_id', userId)
    const decision = await fetch(new URL('/authorize/decision', authorize), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString()
    })
    const callback = new URL(decision.headers.get('location') as string)
    t.equal(callback.origin, this.origin, 'Spotify sends the browser back to the app')
    return this.fetch(callback.pathname + callback.search)
  }
}

/** An emulator with the examples' app registered for `port`'s callback, closed at teardown. */
export async function emulatorFor (t: Test, port: number): Promise<SpotifyEmulator> {
  const emulator = await createSpotifyEmulator({
    clients: [{ ...CLIENT, redirectUris: [`http://127.0.0.1:${port}/callback`] }]
  })
  t.teardown(() => emulator.close())
  return emulator
}

/** The environment of an example that reads its Spotify app from it, on `emulator`. */
export function appEnv (port: number, emulator: SpotifyEmulator): Record<string, string> {
  return {
    PORT: String(port),
    SPOTIFY_CLIENT_ID: CLIENT.clientId,
    SPOTIFY_CLIENT_SECRET: CLIENT.clientSecret,
    SESSION_SECRET,
    SPOTIFY_ACCOUNTS_URL: emulator.accountsUrl,
    SPOTIFY_API_URL: emulator.apiUrl
  }
}

/** The lines between `// #region name` and `// #endregion name`, unindented as one block. */
