/**
 * within(): the deadline of every store operation. Its answer wins over its
 * deadline when both fell due while this process was stalled.
 */
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
  // within()'s timer does not hold the process open: this test does.
  const alive = setInterval(() => {}, 1000)
  t.teardown(() => { clearInterval(alive) })
  const started = performance.now()
  await t.rejects(within('Redis', 30, () => new Promise(() => {})), { message: 'Redis did not answer within 30 ms' })
  t.ok(performance.now() - started >= 29, 'not before the deadline')
})

t.test('a failure is passed on as it came', async (t) => {
  const failure = new Error('refused')
  await t.rejects(within('PostgreSQL', 1000, () => Promise.reject(failure)), failure)
})
