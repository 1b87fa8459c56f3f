/**
 * The apps in examples/, run as a user runs them: each starts as a process of
 * its own (tsx, which maps the package name onto this repository's source
 * through examples/tsconfig.json), against the emulator, and is logged in to
 * over HTTP; the single-page app also in chromium. The README and the guides
 * quote these files: every `<!-- quote: file -->` (or `file#region`) marker
 * must be followed by a code block equal to what it names (a whole file
 * without its region markers), so that no quoted code drifts from code that
 * runs.
 */
import { spawn } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { readdir, readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { createSpotifyEmulator, type SpotifyEmulator } from '../plugin/emulator/index.js'
import { browserTest, launchChromium } from './helpers/chromium.js'
import { freePort } from './helpers/ports.js'
import { postgresOrSkip, PG_URL } from './helpers/postgres.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url))
/** Longest wait for an example to start, log a line or exit. */
const BOUND = 15_000
const CLIENT = { clientId: 'example-app', clientSecret: 'example-app-secret' }
const SESSION_SECRET = 'an-examples-session-secret-of-32-chars'
/** What the examples read from the environment: never inherited from the test's own. */
const EXAMPLE_VARIABLES = [
  'PORT', 'HOST', 'SPOTIFY_CLIENT_ID', 'SPOTIFY_CLIENT_SECRET', 'SPOTIFY_REDIRECT_URI', 'SESSION_SECRET',
  'SPOTIFY_ACCOUNTS_URL', 'SPOTIFY_API_URL', 'SYNC_EVERY_MS', 'DATABASE_URL'
]

/** `promise`, or a rejection naming `what` after BOUND. */
async function within<T> (promise: Promise<T>, what: () => string): Promise<T> {
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
class Example {
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
class Visitor {
  readonly cookies = new Map<string, string>()

  constructor (readonly origin: string) {}

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
async function emulatorFor (t: Test, port: number): Promise<SpotifyEmulator> {
  const emulator = await createSpotifyEmulator({
    clients: [{ ...CLIENT, redirectUris: [`http://127.0.0.1:${port}/callback`] }]
  })
  t.teardown(() => emulator.close())
  return emulator
}

/** The environment of an example that reads its Spotify app from it, on `emulator`. */
function appEnv (port: number, emulator: SpotifyEmulator): Record<string, string> {
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
function region (source: string, name: string, file: string): string {
  const lines = source.split('\n')
  const start = lines.findIndex((line) => line.trim() === `// #region ${name}`)
  const end = lines.findIndex((line) => line.trim() === `// #endregion ${name}`)
  if (start === -1 || end < start) throw new Error(`${file} has no region ${name}`)
  const body = lines.slice(start + 1, end)
  const indent = Math.min(...body.filter((line) => line.trim() !== '').map((line) => /^ */.exec(line)![0].length))
  return body.map((line) => line.slice(indent)).join('\n') + '\n'
}

/** The file without its `// #region` and `// #endregion` lines: what a whole-file quote shows. */
function withoutRegions (source: string): string {
  return source.split('\n').filter((line) => !/^\s*\/\/ #(end)?region\b/.test(line)).join('\n')
}

const QUOTE = /<!-- quote: ([^\s#]+)(?:#([\w-]+))? -->\n(?:```\w*\n([\s\S]*?)```\n)?/g

t.test('every quoted block in README.md and docs/*.md equals the file or region it names', async (t) => {
  const docs = (await readdir(new URL('../docs/', import.meta.url))).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)
  const quoted = new Set<string>()
  for (const doc of ['README.md', ...docs]) {
    const text = await readFile(new URL(`../${doc}`, import.meta.url), 'utf8')
    for (const [marker, file, name, block] of text.matchAll(QUOTE)) {
      const where = `${doc}: ${marker.split('\n')[0]}`
      t.not(block, undefined, `${where} is followed by a code block`)
      // Paths are relative to the document, as its links are.
      const path = new URL(file!, new URL(`../${doc}`, import.meta.url))
      const source = await readFile(path, 'utf8')
      t.equal(block, name === undefined ? withoutRegions(source) : region(source, name, file!), where)
      quoted.add(fileURLToPath(path).slice(ROOT.length))
    }
  }
  t.ok(quoted.has('examples/quick-start.mjs'), 'the README quotes the quick start')
  for (const example of [
    'examples/spa/server.ts', 'examples/spa/page.js', 'examples/background-job.ts', 'examples/postgres.ts',
    'examples/testing/app.ts', 'examples/testing/app.test.ts', 'examples/node-redis-store.ts'
  ]) {
    t.ok(quoted.has(example), `a guide quotes ${example}`)
  }
})

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug (heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-')
}

/** The anchors of a markdown text's headings, numbered as GitHub numbers repeats. */
function anchors (markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const found = new Set<string>()
  for (const [, heading] of withoutCode(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(heading!)
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    found.add(count === 0 ? base : `${base}-${count}`)
  }
  return found
}

/** The markdown without its fenced code blocks. */
function withoutCode (markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```$/gm, '')
}

t.test('every relative link of README.md and docs/*.md points at a file and heading that exist', async (t) => {
  const docs = (await readdir(new URL('../docs/', import.meta.url))).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)
  for (const doc of ['README.md', ...docs]) {
    const here = new URL(`../${doc}`, import.meta.url)
    const text = await readFile(here, 'utf8')
    for (const [, target] of withoutCode(text).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue
      const [path, anchor] = target!.split('#') as [string, string | undefined]
      const url = path === '' ? here : new URL(path, here)
      const where = `${doc}: ${target}`
      if (doc === 'README.md') {
        // What the npm page can follow: the guides and the license ship with the package.
        t.match(path, /^(docs\/[\w-]+\.md|LICENSE|)$/, `${where}: the README links only what ships`)
      }
      const linked = await readFile(url, 'utf8').catch(() => undefined)
      t.not(linked, undefined, `${where}: the file exists`)
      if (anchor !== undefined && linked !== undefined) t.ok(anchors(linked).has(anchor), `${where}: the heading exists`)
    }
  }
})

t.test('the layout in docs/development.md names every folder of plugin/', async (t) => {
  const layout = await readFile(new URL('../docs/development.md', import.meta.url), 'utf8')
  const folders = (await readdir(new URL('../plugin/', import.meta.url), { withFileTypes: true })).filter((entry) => entry.isDirectory())
  for (const folder of folders) t.match(layout, new RegExp(`^  ${folder.name}/ `, 'm'), `plugin/${folder.name}/ is in the layout`)
})

t.test('the quick start: offline on its own emulator, a login on the consent page, the logged-in page, logout', async (t) => {
  const port = await freePort()
  const app = await Example.start(t, 'quick-start.mjs', { PORT: String(port) })
  t.equal(app.origin, `http://127.0.0.1:${port}`, 'it listens where its redirect URI points')
  const visitor = new Visitor(app.origin)

  const anonymous = await visitor.fetch('/')
  t.equal(anonymous.status, 200)
  t.equal(await anonymous.text(), '<a href="/login">Log in with Spotify</a>', 'a login link before login')

  const callback = await visitor.logIn(t)
  t.equal(callback.status, 302)
  t.equal(callback.headers.get('location'), '/', 'the callback sends the browser to /')
  const page = await visitor.fetch('/')
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html; charset=utf-8/)
  const html = await page.text()
  t.match(html, '<h1>Hello, Alice Andersson</h1>', 'the logged-in page names the user')
  t.match(html, '<li>Morning Focus</li>', 'and lists their playlists')
  t.match(html, '<li>Gym &#60;Bangers&#62; &#38; &#34;Hits&#34;</li>', 'escaped')
  t.match(html, '<form method="post" action="/logout">')

  const logout = await visitor.fetch('/logout', { method: 'POST' })
  t.equal(logout.status, 303)
  t.equal(await (await visitor.fetch('/')).text(), '<a href="/login">Log in with Spotify</a>', 'logged out')
  t.same(app.stderr, [], 'nothing on stderr')
})

t.test('the single-page app: its page, and the Web API through the proxy with the session cookie', async (t) => {
  const port = await freePort()
  const emulator = await emulatorFor(t, port)
  const app = await Example.start(t, 'spa/server.ts', appEnv(port, emulator))
  const visitor = new Visitor(app.origin)

  const page = await visitor.fetch('/')
  t.equal(page.headers.get('content-security-policy'), "default-src 'self'")
  t.match(await page.text(), '<script type="module" src="/page.js"></script>')
  const script = await visitor.fetch('/page.js')
  t.match(script.headers.get('content-type'), /^text\/javascript/)
  t.equal(await script.text(), await readFile(new URL('../examples/spa/page.js', import.meta.url), 'utf8'))
  const anonymous = await visitor.fetch('/spotify/me')
  t.equal(anonymous.status, 401, 'no session: 401 from the proxy')
  t.match(await anonymous.json(), { error: { code: 'FST_SPOTIFY_NO_SESSION' } })

  t.equal((await visitor.logIn(t)).headers.get('location'), '/')
  t.match(await (await visitor.fetch('/spotify/me')).json(), { id: 'alice', display_name: 'Alice Andersson' })
  const first = await (await visitor.fetch('/spotify/me/playlists?limit=5')).json() as { items: unknown[], next: string }
  t.equal(first.items.length, 5)
  t.match(first.next, /^\/spotify\/me\/playlists\?/, 'the next link points at the proxy')
  const second = await (await visitor.fetch(first.next)).json() as { items: unknown[], next: string | null }
  t.equal(second.items.length, 2, 'and the page follows it as it comes')
  t.equal(second.next, null)
})

browserTest('the single-page app in chromium: login, the playlists page by page, logout', async (t) => {
  const port = await freePort()
  const emulator = await emulatorFor(t, port)
  const app = await Example.start(t, 'spa/server.ts', appEnv(port, emulator))
  const browser = await launchChromium(t)
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))

  await page.goto(`${app.origin}/`)
  await page.click('#login a')
  await page.selectOption('#user_id', 'alice')
  await page.click('button[value=agree]')
  await page.waitForURL(`${app.origin}/`)
  await page.locator('#playlists li').nth(4).waitFor()
  t.equal(await page.textContent('#name'), 'Alice Andersson')
  t.equal(await page.locator('#playlists li').count(), 5, 'the first page')
  await page.click('#more')
  await page.locator('#playlists li').nth(6).waitFor()
  t.ok(await page.locator('#more').isHidden(), 'no More after the last page')
  t.ok((await page.locator('#playlists li').allTextContents()).includes('Gym <Bangers> & "Hits"'), 'names shown as text')

  await page.click('#logout')
  await page.locator('#login').waitFor()
  t.ok(await page.locator('#app').isHidden(), 'logged out: the login link again')
  t.same(errors, [], 'no script error')
})

t.test('the background job: linked at login, synced with fastify.spotify.session(id), disconnected everywhere', async (t) => {
  const port = await freePort()
  const emulator = await emulatorFor(t, port)
  const app = await Example.start(t, 'background-job.ts', { ...appEnv(port, emulator), SYNC_EVERY_MS: '50' })
  const visitor = new Visitor(app.origin)
  t.same(await (await visitor.fetch('/')).json(), { connect: '/login' })

  await visitor.logIn(t)
  const synced = await app.log((entry) => entry.msg === 'synced top artists' && entry.synced === 1)
  t.ok(synced, 'a round of the job reads the linked user')
  const linked = await (await visitor.fetch('/')).json() as { user: string, topArtists: string[], syncedAt: string, devices: number }
  t.equal(linked.user, 'alice')
  t.equal(linked.topArtists.length, 5, 'their top artists, read by the job')
  t.type(linked.syncedAt, 'string')
  t.equal(linked.devices, 1)

  // A second browser of the same user, then "Disconnect" in the first.
  const other = new Visitor(app.origin)
  await other.logIn(t)
  t.equal((await (await other.fetch('/')).json() as { devices: number }).devices, 2, 'two devices')
  const disconnect = await visitor.fetch('/disconnect', { method: 'POST' })
  t.equal(disconnect.status, 303)
  t.equal(visitor.cookies.get('spotify_session'), undefined, 'this browser\'s cookie is cleared')
  t.same(await (await other.fetch('/')).json(), { connect: '/login' }, 'the other device is logged out too')
  const from = app.entries().length
  t.ok(await app.log((entry) => entry.msg === 'synced top artists' && entry.synced === 0, from), 'the job reads nobody now')
})

t.test('the PostgreSQL deployment: sessions in the database, rate-limited logins, a clean shutdown', async (t) => {
  const db = await postgresOrSkip(t)
  if (db === undefined) return
  const port = await freePort()
  const emulator = await emulatorFor(t, port)
  // The example's tables land in this test's own schema.
  const url = new URL(PG_URL)
  url.searchParams.set('options', `-c search_path=${db.schema}`)
  const app = await Example.start(t, 'postgres.ts', {
    ...appEnv(port, emulator),
    SPOTIFY_REDIRECT_URI: `http://127.0.0.1:${port}/callback`,
    DATABASE_URL: url.href
  })
  const visitor = new Visitor(app.origin)
  const sessions = async (): Promise<number> =>
    Number((await db.pool.query(`SELECT count(*) FROM ${db.schema}.spotify_auth_sessions`)).rows[0].count)

  t.equal((await visitor.fetch('/')).status, 401, '/ is for logged-in users')
  t.equal(await sessions(), 0)
  await visitor.logIn(t)
  t.same(await (await visitor.fetch('/')).json(), { id: 'alice', displayName: 'Alice Andersson' })
  t.equal(await sessions(), 1, 'the session is a row in PostgreSQL')
  t.equal((await visitor.fetch('/logout', { method: 'POST' })).status, 303)
  t.equal(await sessions(), 0, 'logout deletes it')

  // One /login so far: 29 more pass, the 31st within the minute is refused.
  const statuses: number[] = []
  for (let i = 0; i < 30; i++) statuses.push((await fetch(`${app.origin}/login`, { redirect: 'manual' })).status)
  t.same(statuses, [...Array(29).fill(302), 429], '30 logins a minute per client')

  t.equal(await app.stop('SIGTERM'), 0, 'SIGTERM closes the app and the pool, and the process ends by itself')
  t.same(app.stderr, [], 'nothing on stderr')
})

t.test('testing an app with the emulator: the example\'s own tests pass under node:test', async (t) => {
  const run = await Example.run(t, ['--test', '--test-reporter=tap', 'testing/app.test.ts'])
  t.equal(run.code, 0, `node --test passes (stdout: ${run.stdout.join(' | ')}; stderr: ${run.stderr.join(' | ')})`)
  t.ok(run.stdout.includes('# pass 4'), 'four tests')
  t.ok(run.stdout.includes('# fail 0'), 'none failing')
})
