import { STATUS_CODES } from 'node:http'
import { ForeignUrlError } from '../errors.js'
import type { TokenSource, Transport, WebApiAnswer } from './call.js'
import { endToEndHeaders } from './hop-by-hop.js'
import type { WebApiPolicy } from './policy.js'
import type { FetchLike } from './transport.js'
import type { WebApiUrlRule } from './url-rule.js'

/** `RequestInit`, and what carries the call once the plugin has checked it. */
export interface SpotifyFetchInit extends RequestInit {
  /**
   * A fetch that sends the call instead of the plugin's own connections (a
   * test double, the app's instrumentation). It gets the final URL under
   * `{apiUrl}/v1/` with the bearer, and the plugin's `timeout` as its signal.
   */
  transport?: FetchLike | undefined
}

/**
 * A handle's `fetch`: WHATWG fetch, authenticated as the handle, for the Web
 * API only. `input` is relative to `{apiUrl}/v1/` (`me/playlists?limit=5`,
 * resolved as a browser resolves a link) or an absolute URL under it (a
 * paging object's `next`); anything else rejects with
 * `FST_SPOTIFY_FOREIGN_URL` before a token is read. Any `Authorization` of
 * `init` is replaced by the handle's bearer; hop-by-hop headers and
 * `Accept-Encoding` stay behind. The call follows no redirect, is sent once
 * more with a renewed token after a 401, honours and opens the app's
 * rate-limit window (`FST_SPOTIFY_RATE_LIMITED`), and rejects with
 * `FST_SPOTIFY_UPSTREAM_ERROR` / `FST_SPOTIFY_UPSTREAM_TIMEOUT` when Spotify
 * gives no answer (with `init.signal`'s reason when that ended it). Any
 * status Spotify answers resolves, body read whole.
 */
export type SpotifyFetch = (input: string | URL, init?: SpotifyFetchInit) => Promise<Response>

/** Statuses whose response has no body: `new Response()` refuses one. */
const NO_BODY = new Set([101, 204, 205, 304])

function responseOf (answer: WebApiAnswer, url: URL): Response {
  const headers = new Headers()
  for (const [name, value] of Object.entries(answer.headers)) {
    for (const one of typeof value === 'string' ? [value] : value) headers.append(name, one)
  }
  // Our buffers never sit on a SharedArrayBuffer, which the DOM's BodyInit refuses.
  const response = new Response(NO_BODY.has(answer.status) ? null : answer.body as Uint8Array<ArrayBuffer>, {
    status: answer.status,
    statusText: STATUS_CODES[answer.status] ?? '',
    headers
  })
  Object.defineProperty(response, 'url', { value: url.href })
  return response
}

/** Builds the `fetch` of one token source. */
export function fetchClientFor (policy: WebApiPolicy, rule: WebApiUrlRule, source: TokenSource, transportOver: (send: FetchLike) => Transport): SpotifyFetch {
  return async (input, init = {}) => {
    const url = new URL(input, rule.base)
    const target = rule.absolute(url)
    if (target === undefined) throw new ForeignUrlError()
    // A Request reads any BodyInit and its content type as fetch itself would.
    const request = new Request(url, init)
    const body = request.body === null ? null : Buffer.from(await request.arrayBuffer())
    const headers = endToEndHeaders(request.headers, request.headers.get('connection') ?? undefined)
    // The fetch standard forbids it: the body comes back as it is meant to be read.
    delete headers['accept-encoding']
    const transport = init.transport === undefined ? undefined : transportOver(init.transport)
    try {
      return responseOf(await policy.call(source, { method: request.method, target, headers, body, signal: init.signal ?? undefined }, { transport }), url)
    } catch (err) {
      // The caller's own abort ends its call the way fetch reports it.
      if (init.signal?.aborted === true) throw init.signal.reason
      throw err
    }
  }
}
