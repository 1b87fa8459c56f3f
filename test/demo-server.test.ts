import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { freePort, SESSION_SECRET } from './helpers/demo.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Longest wait for the demo to start or to exit. */
const BOUND = 15_000
const DEMO_VARIABLES = [
  'HOST', 'PORT', 'SPOTIFY_CLIENT_ID', 'SPOTIFY_CLIENT_SECRET', 'SPOTIFY_REDIRECT_URI', 'SPOTIFY_SCOPES',
  'SPOTIFY_ACCOUNTS_URL', 'SPOTIFY_API_URL', 'SESSION_SECRET', 'REDIS_URL', 'DATABASE_URL', 'LOG_LEVEL', 'EMULATOR_TOKEN_TTL'
]

interface Run {
  child: ChildProcess
  stdout: string[]
  stderr: string[]
  /** Emits `line` for every stdout line. */
  lines: EventEmitter
  /** Resolves with the exit code once the process has exited and its output is read. */
  exit: Promise<number | null>
}

/**
 * Runs `demo/server.ts` with only `env` of the demo's variables. `tap` (the
 * default) loads it with this test's own TypeScript loader, so that its
 * coverage maps onto the same sources as the tests' own; `tsx` runs it
 * exactly as `npm start` does, with coverage collection turned off (tsx's
 * transpiled code would otherwise be reported against the sources).
 */
function run (t: { teardown (fn: () => unknown): void }, env: Record<string, string>, loader: 'tap' | 'tsx' | 'npm' = 'tap'): Run {
  const base: NodeJS.ProcessEnv = { ...process.env }
  for (const name of DEMO_VARIABLES) delete base[name]
  // tap's process tracking still sees the tsx child; this tells it to record no coverage there.
  if (loader !== 'tap') base._TAPJS_PROCESSINFO_COVERAGE_ = '0'
  const [command, args] = loader === 'npm'
    ? ['npm', ['start', '--silent']]
    : [process.execPath, loader === 'tsx' ? ['--import', 'tsx', 'demo/server.ts'] : [...process.execArgv, 'demo/server.ts']]
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const stdout: string[] = []
  const stderr: string[] = []
  const lines = new EventEmitter()
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line)
    lines.emit('line', line)
  })
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line))
  // 'close', not 'exit': by then stdout and stderr are read to the end.
  const exit = once(child, 'close').then(([code]) => code as number | null)
  return { child, stdout, stderr, lines, exit }
}

/** `promise`, or a rejection saying `what` was awaited when it takes longer than BOUND. */
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

/** The exit code, within BOUND. */
function exited (started: Run): Promise<number | null> {
  return within(started.exit, () => `exit (stdout: ${started.stdout.join(' | ')}; stderr: ${started.stderr.join(' | ')})`)
}

/** The first stdout line matching `pattern`, within BOUND; rejects when the process exits first. */
async function line (started: Run, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + BOUND
  for (;;) {
    // The array, not the event's line: several lines may arrive between two wake-ups.
    const found = started.stdout.find((l) => pattern.test(l))
    if (found !== undefined) return found
    await within(Promise.race([
      once(started.lines, 'line'),
      started.exit.then(() => { throw new Error(`the demo exited (stderr: ${started.stderr.join(' | ')})`) })
    ]), () => `a line matching ${pattern}`)
    if (Date.now() > deadline) throw new Error(`no line matching ${pattern} within ${BOUND} ms`)
  }
}

t.test('a bad variable stops start-up: exit code 1 and one line on stderr, no stack trace', async (t) => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: 'abc' }, 'Cannot start the demo: PORT must be a whole number from 1 to 65535 (got "abc")'],
    [{ SPOTIFY_REDIRECT_URI: 'http://localhost:5543/callback' },
      'Cannot start the demo: SPOTIFY_REDIRECT_URI must not use localhost, which Spotify refuses (use 127.0.0.1), such as http://127.0.0.1:5543/callback (got "http://localhost:5543/callback")'],
    [{ LOG_LEVEL: 'loud' }, 'Cannot start the demo: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")']
  ]
  for (const [env, message] of cases) {
    const started = run(t, env)
    t.equal(await exited(started), 1, `${JSON.stringify(env)}: exit code 1`)
    t.same(started.stderr, [message], 'one line on stderr')
    t.same(started.stdout, [], 'nothing on stdout')
  }
})

t.test('a port in use stops start-up with one line, after closing the emulator', async (t) => {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const { port } = server.address() as { port: number }
  const started = run(t, { PORT: String(port), SESSION_SECRET, LOG_LEVEL: 'silent' })
  t.equal(await exited(started), 1, 'exit code 1, without hanging on the emulator')
  t.same(started.stderr, [`Cannot start the demo: port ${port} on 127.0.0.1 is already in use: stop what runs there, or set PORT to a free port`])
})

for (const [signal, loader] of [['SIGINT', 'tap'], ['SIGTERM', 'tsx']] as const) {
  t.test(`starts on the emulator, prints one line to open, and exits 0 on ${signal} (${loader})`, async (t) => {
    const port = await freePort()
    const started = run(t, { PORT: String(port) }, loader)
    const banner = await line(started, /^fastify-spotify-auth demo: open /)
    t.match(banner, new RegExp(`^fastify-spotify-auth demo: open http://127\\.0\\.0\\.1:${port}/ \\(offline, on the Spotify emulator at http://127\\.0\\.0\\.1:\\d+: no Spotify account needed; sessions in memory\\)$`))
    t.equal(started.stdout.filter((l) => l.includes('open http')).length, 1, 'one line with the URL')
    const warning = JSON.parse(await line(started, /SESSION_SECRET/))
    t.match(warning, { level: 40, msg: /^SESSION_SECRET is not set: using a random one/ }, 'JSON logs when stdout is not a terminal')

    // A browser-like client with a keep-alive connection open.
    const page = await fetch(`http://127.0.0.1:${port}/`)
    t.equal(page.status, 200)
    t.match(await page.text(), /Log in with Spotify/)
    const login = await fetch(`http://127.0.0.1:${port}/login`, { redirect: 'manual' })
    const emulator = /emulator at (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)![1] as string
    t.equal(new URL(login.headers.get('location') as string).origin, emulator, 'the login goes to the embedded emulator')

    started.child.kill(signal)
    t.equal(await exited(started), 0, `exit code 0 after ${signal}`)
    t.ok(started.stdout.some((l) => l.includes(`${signal}: closing the server, the emulator and the store`)))
    t.same(started.stderr, [])
    await t.rejects(fetch(emulator), 'the emulator is closed too')
  })
}

t.test('npm start passes SIGTERM on to the demo: nothing is left running once npm has exited', async (t) => {
  const port = await freePort()
  const started = run(t, { PORT: String(port) }, 'npm')
  // The demo's own pid, from its JSON log (npm's child is a shell).
  const { pid } = JSON.parse(await line(started, /SESSION_SECRET/)) as { pid: number }
  t.teardown(() => { try { process.kill(pid, 'SIGKILL') } catch {} })
  t.not(pid, started.child.pid)
  // The banner comes once the server listens (the warning comes before).
  await line(started, /^fastify-spotify-auth demo: open /)
  t.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200)
  started.child.kill('SIGTERM')
  t.equal(await exited(started), 0, 'npm exits 0 once the demo has closed')
  t.ok(started.stdout.some((l) => l.includes('SIGTERM: closing the server, the emulator and the store')), 'the demo got the signal')
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the demo process is gone')
  await t.rejects(fetch(`http://127.0.0.1:${port}/`), 'and its port is closed')
})

t.test('npm start\'s own command (tsx) reports a bad variable the same way', async (t) => {
  const started = run(t, { SESSION_SECRET: 'short' }, 'tsx')
  t.equal(await exited(started), 1)
  t.same(started.stderr, ['Cannot start the demo: SESSION_SECRET must be at least 32 characters (it has 5); make one with: openssl rand -base64 32'])
})
