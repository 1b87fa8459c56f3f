/*
 * The plugin's own transport (web-api/transport.ts) at the edges the
 * clients' tests do not reach: informational answers before the real one,
 * and a call its caller abandons before a connection was even open.
 */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { isUnanswered, poolTransport } from '../plugin/web-api/transport.js'
import type { WebApiTarget } from '../plugin/web-api/url-rule.js'

const LIMITS = { timeout: 5000, responseLimit: 1024 }

async function upstream (t: Test, handle: Parameters<typeof createServer>[1]): Promise<{ url: string, server: Server }> {
  const server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

const call = (signal?: AbortSignal) => ({ method: 'GET', target: '/v1/me' as WebApiTarget, headers: { authorization: 'Bearer t' }, body: null, signal })

t.test('an Early Hints (103) before the answer: the answer is what comes back', async (t) => {
  const { url } = await upstream(t, (_request, response) => {
    response.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' })
    response.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' }).end('{"id":"alice"}')
  })
  const transport = poolTransport(url, LIMITS)
  t.teardown(transport.close)
  const answer = await transport.send(call())
  t.equal(answer.status, 200)
  t.equal(answer.headers.etag, '"v1"', 'the final answer\'s headers, not the hint\'s')
  t.equal(answer.headers.link, undefined)
  t.same(JSON.parse(answer.body.toString()), { id: 'alice' })
})

/** A transport to an upstream that answers `{}` and counts the requests that reached it. */
async function counted (t: Test): Promise<{ transport: ReturnType<typeof poolTransport>, reached: () => number }> {
  let reached = 0
  const { url } = await upstream(t, (_request, response) => {
    reached++
    response.end('{}')
  })
  const transport = poolTransport(url, LIMITS)
  t.teardown(transport.close)
  return { transport, reached: () => reached }
}

t.test('a signal aborted before the call: a 502 "no answer" at once, nothing sent', async (t) => {
  const { transport, reached } = await counted(t)
  const error = await transport.send(call(AbortSignal.abort())).then(() => undefined, (err: unknown) => err as Error)
  t.match(error, { code: 'FST_SPOTIFY_UPSTREAM_ERROR', statusCode: 502 })
  t.ok(isUnanswered(error))
  t.equal(reached(), 0)
})

t.test('aborted before a connection was open: a 502 "no answer", and nothing reaches the Web API', async (t) => {
  const { transport, reached } = await counted(t)
  const controller = new AbortController()
  const sent = transport.send(call(controller.signal))
  // Same tick: the pool is still opening its first connection.
  controller.abort()
  const error = await sent.then(() => undefined, (err: unknown) => err as Error & { code: string, statusCode: number })
  t.match(error, { code: 'FST_SPOTIFY_UPSTREAM_ERROR', statusCode: 502 })
  t.ok(isUnanswered(error), 'the call may be tried again: it got no answer')
  t.equal(reached(), 0)
  // The pool is still good for the next call.
  t.equal((await transport.send(call())).status, 200)
  t.equal(reached(), 1)
})

t.test('aborted while the Web API holds its answer: a 502 "no answer", and the connection is let go', async (t) => {
  let arrived!: (socketClosed: Promise<unknown>) => void
  const reached = new Promise<Promise<unknown>>((resolve) => { arrived = resolve })
  // Never answers: the call is in flight until its caller gives up.
  const { url } = await upstream(t, (request) => { arrived(once(request.socket, 'close')) })
  const transport = poolTransport(url, LIMITS)
  t.teardown(transport.close)
  const controller = new AbortController()
  const sent = transport.send(call(controller.signal))
  const socketClosed = await reached
  controller.abort()
  const error = await sent.then(() => undefined, (err: unknown) => err as Error)
  t.match(error, { code: 'FST_SPOTIFY_UPSTREAM_ERROR', statusCode: 502 })
  t.ok(isUnanswered(error))
  await socketClosed
  t.pass('the upstream saw its connection closed')
})
