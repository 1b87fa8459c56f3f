import type { Readable } from 'node:stream'
import { Pool, type Dispatcher } from 'undici'
import { UpstreamTimeoutError, UpstreamTooLargeError } from '../errors.js'
import { summaryOf, upstreamFailure } from '../failures.js'
import type { Transport, WebApiCall } from './call.js'

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
 * Stops reading `body`. Destroyed before its end, undici's body emits an
 * abort error: with nobody left to listen, that would be an uncaught
 * exception (a small body that arrived whole before the check, say).
 */
function discard (body: Readable): void {
  body.on('error', ignore)
  body.destroy()
}

function ignore (): void {}

/** The whole body, or a 502 past `limit` bytes (announced or counted), without reading further. */
async function bodyWithin (body: Dispatcher.ResponseData['body'], announced: string | string[] | undefined, limit: number): Promise<Buffer> {
  if (typeof announced === 'string') {
    if (Number(announced) > limit) {
      discard(body)
      throw new UpstreamTooLargeError()
    }
    // The usual case (the Web API announces its length): read it at once.
    return Buffer.from(await body.arrayBuffer())
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > limit) {
      discard(body)
      throw new UpstreamTooLargeError()
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, size)
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
    async send (call) {
      let response: Dispatcher.ResponseData
      try {
        response = await pool.request({
          method: call.method as Dispatcher.HttpMethod,
          path: call.target,
          headers: call.headers,
          body: call.body,
          signal: call.signal
        })
      } catch (cause) {
        throw unanswered(upstreamFailure(cause, 'the Web API'))
      }
      try {
        // undici sets no header to undefined.
        return { status: response.statusCode, headers: response.headers as Record<string, string | string[]>, body: await bodyWithin(response.body, response.headers['content-length'], limits.responseLimit) }
      } catch (cause) {
        if (cause instanceof UpstreamTooLargeError) throw cause
        throw unanswered(upstreamFailure(cause, 'the Web API'))
      }
    },
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
