/**
 * within(): the deadline of every store operation. Its answer wins over its
 * deadline when both fell due while this process was stalled.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, connect, type Socket } from 'node:net'
import t from 'tap'
import { within } from '../plugin/store/kit/within.js'

/** Blocks this thread for `ms`: a long task, or a machine busy with other work. */
function stall (ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) { /* busy */ }
}

t.test('an answer already waiting in the socket when a stall ends wins over the deadline that fell due during it', async (t) => {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const client = connect((server.address() as { port: number }).port, '127.0.0.1')
  await once(client, 'connect')
  const [peer] = await accepted
  t.teardown(() => { client.destroy(); peer.destroy() })

  const answer = within('the peer', 20, () => once(client, 'data').then(([data]) => String(data)))
  // Written at once to a loopback socket: the kernel hands the bytes over
  // before the stall, and Node reads them only after it, when the 20 ms
  // deadline is long past and its timer runs first.
  peer.write('pong')
  stall(60)
  t.equal(await answer, 'pong')
})

t.test('an operation that never answers is refused after its deadline, naming what did not answer', async (t) => {
  // within()'s timer does not hold the process open: this one does.
  const alive = setTimeout(() => {}, 3000)
  t.teardown(() => { clearTimeout(alive) })
  const started = performance.now()
  await t.rejects(within('Redis', 30, () => new Promise(() => {})), { message: 'Redis did not answer within 30 ms' })
  t.ok(performance.now() - started >= 29, 'not before the deadline')
})

t.test('the refusal comes when nothing else wakes the event loop', async (t) => {
  // In a process of its own: tap's own timers would wake this one. The
  // only other work is a timer 100 deadlines away, which the refusal must
  // not wait for (an unreferenced immediate would: the poll sleeps until then).
  const script = `
    import { within } from './plugin/store/kit/within.ts'
    const later = setTimeout(() => {}, 3000)
    const started = performance.now()
    within('Redis', 30, () => new Promise(() => {})).catch((error) => {
      console.log(performance.now() - started < 1500 ? error.message : 'refused only when the next timer woke the loop')
      clearTimeout(later)
    })
  `
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  await once(child, 'exit')
  t.equal(output.trim(), 'Redis did not answer within 30 ms')
})

t.test('a failure is passed on as it came', async (t) => {
  const failure = new Error('refused')
  await t.rejects(within('PostgreSQL', 1000, () => Promise.reject(failure)), failure)
})
