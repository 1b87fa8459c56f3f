import t from 'tap'
import { freePort } from './helpers/demo.js'
import { exited, line, run } from './helpers/demo-process.js'

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
