import { Pool, type Dispatcher } from 'undici'
import { UpstreamTimeoutError, UpstreamTooLargeError } from '../errors.js'
import { summaryOf, upstreamFailure } from '../failures.js'
import type { Transport, WebApiAnswer, WebApiCall } from './call.js'

/** Bounds every transport honours: the plugin's `timeout` and `proxyResponseLimit`. */
export interface TransportLimits {
  /** Milliseconds for each phase of a call: connecting, the headers, each stretch of the body. */
  readonly timeout: number
  /** Bytes of the largest answer read; past it: 502 `FST_SPOTIFY_UPSTREAM_TOO_LARGE`. */
  readonly responseLimit: number
}

/** Failures that mean the Web API gave no (whole) answer: a client may try an idempotent call again. */
const noAnswer = new WeakSet<Error>()

/** Whether `error` is a transport's "no answer" (502/504): the call may not have reached Spotify. */
export function isUnanswered (error: unknown): boolean {
  return noAnswer.has(error as Error)
}

function unanswered (error: Error): Error {
  noAnswer.add(error)
  return error
}

/**
 * One call through `pool` with a handler of our own rather than
 * `pool.request()`: the answer is read whole anyway, and `request()` would
 * wrap each one in an async resource and a body stream only to gather its
 * chunks back (about 3 µs of a 30 µs call, the two alternated in one
 * process). Failures are those `request()` gives: the caller's
 * abort reason, undici's timeouts, a closed socket.
 */
function dispatched (pool: Pool, call: WebApiCall, limit: number): Promise<WebApiAnswer> {
  return new Promise((resolve, reject) => {
    const answer = new AnswerReader(call.signal, limit, resolve, reject)
    if (call.signal?.aborted === true) answer.onResponseError(undefined, call.signal.reason)
    else pool.dispatch({ method: call.method as Dispatcher.HttpMethod, path: call.target, headers: call.headers, body: call.body }, answer)
  })
}

/**
 * Gathers one answer for {@link dispatched}: a class, so that a call
 * allocates one object rather than a closure per callback.
 */
class AnswerReader implements Dispatcher.DispatchHandler {
  readonly #signal: AbortSignal | undefined
  readonly #limit: number
  readonly #resolve: (answer: WebApiAnswer) => void
  readonly #reject: (error: Error) => void
  #controller: Dispatcher.DispatchController | undefined
  #status = 0
  #headers: Record<string, string | string[]> = {}
  readonly #chunks: Buffer[] = []
  #size = 0
  #settled = false

  constructor (signal: AbortSignal | undefined, limit: number, resolve: (answer: WebApiAnswer) => void, reject: (error: Error) => void) {
    this.#signal = signal
    this.#limit = limit
    this.#resolve = resolve
    this.#reject = reject
    if (signal === undefined) return
    this.#onAbort = () => { this.#controller?.abort(signal.reason) }
    signal.addEventListener('abort', this.#onAbort, { once: true })
  }

  /** Only for a call with a signal (the proxy's have none). */
  readonly #onAbort: (() => void) | undefined

  onRequestStart (controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    // Aborted while the call waited for a connection.
    if (this.#signal?.aborted === true) controller.abort(this.#signal.reason)
  }

  onResponseStart (controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // 1xx: informational, the answer is still to come.
    if (statusCode < 200) return
    this.#status = statusCode
    // undici sets no header to undefined.
    this.#headers = headers as Record<string, string | string[]>
    const announced = headers['content-length']
    if (typeof announced === 'string' && Number(announced) > this.#limit) this.#tooLarge(controller)
  }

  // Never after a settling abort: undici stops parsing the answer there.
  onResponseData (controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length
    if (this.#size > this.#limit) this.#tooLarge(controller)
    else this.#chunks.push(chunk)
  }

  onResponseEnd (): void {
    if (this.#settle()) this.#resolve({ status: this.#status, headers: this.#headers, body: this.#chunks.length === 1 ? this.#chunks[0] as Buffer : Buffer.concat(this.#chunks, this.#size) })
  }

  onResponseError (_controller: unknown, error: Error): void {
    if (this.#settle()) this.#reject(unanswered(upstreamFailure(error, 'the Web API')))
  }

  /** Past the cap (announced or counted): a 502, and nothing more is read. */
  #tooLarge (controller: Dispatcher.DispatchController): void {
    const error = new UpstreamTooLargeError()
    if (this.#settle()) this.#reject(error)
    controller.abort(error)
  }

  /** Whether this is the call's first outcome (the only one that counts). */
  #settle (): boolean {
    if (this.#settled) return false
    this.#settled = true
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort)
    return true
  }
}

/** The plugin's own transport, and how to let it go. */
export interface PoolTransport {
  readonly send: Transport
  /** Ends every connection, calls in flight included: the app is closing. */
  close (): Promise<void>
}

/**
 * The plugin's transport: an undici pool of keep-alive connections to the
 * Web API's origin, shared by every client of one plugin instance. Not got:
 * got normalises ~40 options per request, which made the proxy 3× slower
 * than @fastify/http-proxy (bench/README.md); undici's pool, which
 * @fastify/http-proxy itself uses, keeps up. The bearer lives in the
 * request it is sent with and nowhere else: nothing a caller or an error
 * can reach holds the pool.
 */
export function poolTransport (apiUrl: string, limits: TransportLimits): PoolTransport {
  const pool = new Pool(new URL(apiUrl).origin, {
    connections: 128,
    headersTimeout: limits.timeout,
    bodyTimeout: limits.timeout,
    connectTimeout: limits.timeout
  })
  return {
    send: (call) => dispatched(pool, call, limits.responseLimit),
    close: () => pool.destroy()
  }
}

/** A fetch that carries calls instead of the pool: a test double, or instrumentation of the app's. */
export type FetchLike = (url: URL, init: RequestInit) => Promise<Response>

/** A `Response`'s whole body, or a 502 once past `limit` bytes. */
async function responseWithin (response: Response, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  if (response.body === null) return Buffer.alloc(0)
  // Leaving the loop early cancels the stream.
  for await (const chunk of response.body) {
    size += chunk.length
    if (size > limit) throw new UpstreamTooLargeError()
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))
  }
  return Buffer.concat(chunks, size)
}

function headersOf (headers: Headers): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {}
  for (const [name, value] of headers) record[name] = value
  const cookies = headers.getSetCookie()
  if (cookies.length > 0) record['set-cookie'] = cookies
  return record
}

/**
 * A transport over `send`, a fetch of the app's own (the SDK adapter's
 * `fetch` option): it gets the call's URL under `{apiUrl}/v1/` with the
 * bearer, follows no redirect, and has `timeout` for the whole call, body
 * included.
 */
export function fetchTransport (send: FetchLike, origin: string, limits: TransportLimits): Transport {
  return async (call: WebApiCall) => {
    const timeout = AbortSignal.timeout(limits.timeout)
    const headers = new Headers(call.headers)
    try {
      const response = await send(new URL(call.target, origin), {
        method: call.method,
        headers,
        // Our buffers never sit on a SharedArrayBuffer, which the DOM's BodyInit refuses.
        body: call.body as string | Uint8Array<ArrayBuffer> | null,
        redirect: 'manual',
        signal: call.signal === undefined ? timeout : AbortSignal.any([call.signal, timeout])
      })
      // Read here, under the timeout: a body that stalls or breaks off is
      // Spotify's failure (504/502), not the caller's to find.
      return { status: response.status, headers: headersOf(response.headers), body: await responseWithin(response, limits.responseLimit) }
    } catch (cause) {
      if (cause instanceof UpstreamTooLargeError) throw cause
      if ((cause as { name?: unknown }).name === 'TimeoutError') throw unanswered(new UpstreamTimeoutError({ cause: summaryOf(cause) }))
      throw unanswered(upstreamFailure((cause as { cause?: unknown }).cause ?? cause, 'the Web API'))
    }
  }
}
