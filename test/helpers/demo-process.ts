import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/*
 * The demo as a process of its own (`demo/server.ts`, or `npm start`), for
 * the tests of what a person running it sees: its output, its exit code,
 * its signals.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** Longest wait for the demo to start or to exit. */
const BOUND = 15_000
const DEMO_VARIABLES = [
  'HOST', 'PORT', 'SPOTIFY_CLIENT_ID', 'SPOTIFY_CLIENT_SECRET', 'SPOTIFY_REDIRECT_URI', 'SPOTIFY_SCOPES',
  'SPOTIFY_ACCOUNTS_URL', 'SPOTIFY_API_URL', 'SESSION_SECRET', 'REDIS_URL', 'DATABASE_URL', 'LOG_LEVEL', 'EMULATOR_TOKEN_TTL'
]

export interface Run {
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
 * default) loads it with this test's own Node arguments (its TypeScript
 * loader, strict warnings); `tsx` runs it exactly as `npm start` does; `npm`
 * runs `npm start` itself (its shell, then the demo). No child records
 * coverage: what they run is measured in-process (test/demo-startup.test.ts,
 * test/demo-server.test.ts), and a child ended by a signal reports ranges
 * that merge into false gaps.
 */
export function run (t: { teardown (fn: () => unknown): void }, env: Record<string, string>, loader: 'tap' | 'tsx' | 'npm' = 'tap'): Run {
  const base: NodeJS.ProcessEnv = { ...process.env }
  for (const name of DEMO_VARIABLES) delete base[name]
  // tap's process tracking still sees the child; this tells it to record no coverage there.
  base._TAPJS_PROCESSINFO_COVERAGE_ = '0'
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
export function exited (started: Run): Promise<number | null> {
  return within(started.exit, () => `exit (stdout: ${started.stdout.join(' | ')}; stderr: ${started.stderr.join(' | ')})`)
}

/** The first stdout line matching `pattern`, within BOUND; rejects when the process exits first. */
export async function line (started: Run, pattern: RegExp): Promise<string> {
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
