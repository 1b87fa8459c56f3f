import { once } from 'node:events'
import { createServer } from 'node:net'
import t from 'tap'
import * as app from '../demo/app.js'
import { start, type StartProcess } from '../demo/startup.js'
import { freePort, SESSION_SECRET } from './helpers/demo.js'
import { exited, line, run } from './helpers/demo-process.js'

/*
 * What a person running `npm start` sees. The cases run `start()` in this
 * process with a recorded stand-in for `process`; three run the real
 * command as a child (`demo/server.ts` under this test's loader, and as
 * `npm start` runs it under tsx): output, exit code and signals end to end.
 */

interface Recorded extends StartProcess {
  readonly stdout: { isTTY: boolean, write (text: string): unknown, lines: string[] }
  readonly stderr: { write (text: string): unknown, lines: string[] }
  readonly exits: number[]
  readonly handlers: Map<string, () => unknown>
}

/** `server.ts`'s loader of the app, counting its calls. */
function appLoader (): { load: () => Promise<typeof app>, calls: number } {
  const counted = { calls: 0, load: async () => { counted.calls++; return app } }
  return counted
}

function recorded (env: Record<string, string>): Recorded {
  const out: string[] = []
  const err: string[] = []
  const exits: number[] = []
  const handlers = new Map<string, () => unknown>()
  return {
    env,
    stdout: { isTTY: false, lines: out, write: (text: string) => out.push(...text.split('\n').filter(Boolean)) },
    stderr: { lines: err, write: (text: string) => err.push(...text.split('\n').filter(Boolean)) },
    exits,
    handlers,
    exit: (code: number) => { exits.push(code) },
    once: (signal, listener) => handlers.set(signal, listener)
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
    const proc = recorded(env)
    const loaded = appLoader()
    t.equal(await start(proc, loaded.load), undefined)
    t.equal(loaded.calls, 0, 'reported before loading Fastify, the plugin and the emulator')
    t.same(proc.exits, [1], `${JSON.stringify(env)}: exit code 1`)
    t.same(proc.stderr.lines, [message], 'one line on stderr')
    t.same(proc.stdout.lines, [], 'nothing on stdout')
    t.same([...proc.handlers.keys()], [], 'no signal handler left behind')
  }
})

t.test('a port in use stops start-up with one line, after closing the emulator', async (t) => {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const { port } = server.address() as { port: number }
  const proc = recorded({ PORT: String(port), SESSION_SECRET, LOG_LEVEL: 'silent' })
  t.equal(await start(proc, appLoader().load), undefined)
  t.same(proc.exits, [1], 'exit code 1, without hanging on the emulator')
  t.same(proc.stderr.lines, [`Cannot start the demo: port ${port} on 127.0.0.1 is already in use: stop what runs there, or set PORT to a free port`])
})

t.test('starts on the emulator, prints one line to open; SIGINT and SIGTERM close the server and the emulator', async (t) => {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    const port = await freePort()
    const proc = recorded({ PORT: String(port), LOG_LEVEL: 'silent' })
    const demo = await start(proc, appLoader().load)
    t.ok(demo)
    t.same(proc.exits, [])
    t.equal(proc.stdout.lines.length, 1, 'one line')
    t.match(proc.stdout.lines[0], new RegExp(`^fastify-spotify-auth demo: open http://127\\.0\\.0\\.1:${port}/ \\(offline, on the Spotify emulator at http://127\\.0\\.0\\.1:\\d+: no Spotify account needed; sessions in memory\\)$`))
    t.same([...proc.handlers.keys()], ['SIGINT', 'SIGTERM'])
    const page = await fetch(`http://127.0.0.1:${port}/`)
    t.equal(page.status, 200)
    t.match(await page.text(), /Log in with Spotify/)
    await proc.handlers.get(signal)!()
    await t.rejects(fetch(`http://127.0.0.1:${port}/`), `${signal}: the server is closed`)
    await t.rejects(fetch(demo!.emulator!.url), 'the emulator is closed too')
    t.same(proc.stderr.lines, [])
  }
})

for (const [signal, loader] of [['SIGINT', 'tap'], ['SIGTERM', 'tsx']] as const) {
  t.test(`as a process: one line to open, JSON logs, and exit 0 on ${signal} (${loader})`, async (t) => {
    const port = await freePort()
    const started = run(t, { PORT: String(port) }, loader)
    const banner = await line(started, /^fastify-spotify-auth demo: open /)
    t.equal(started.stdout.filter((l) => l.includes('open http')).length, 1, 'one line with the URL')
    const warning = JSON.parse(await line(started, /SESSION_SECRET/))
    t.match(warning, { level: 40, msg: /^SESSION_SECRET is not set: using a random one/ }, 'JSON logs when stdout is not a terminal')
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

t.test('npm start\'s own command (tsx) reports a bad variable with one line and exit code 1', async (t) => {
  const started = run(t, { SESSION_SECRET: 'short' }, 'tsx')
  t.equal(await exited(started), 1)
  t.same(started.stderr, ['Cannot start the demo: SESSION_SECRET must be at least 32 characters (it has 5); make one with: openssl rand -base64 32'])
  t.same(started.stdout, [])
})
