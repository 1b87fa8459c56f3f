import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import got, { type Got, type OptionsInit, type RequestError } from 'got'
import { ForeignUrlError } from '../errors.js'
import { isSpotifyAuthError, upstreamFailure } from '../failures.js'
import type { ResolvedOptions } from '../options.js'
import type { Session } from '../session/session.js'
import type { Agents } from './agents.js'
import { safeApiPath } from './api-path.js'
import type { RateLimitGate } from './rate-limit.js'
import { spotifyPagination } from './paging.js'

/**
 * The access token of each request, by the request's headers object: got
 * hands that very object to the request function below, which adds the
 * `Authorization` header to a copy. The bearer is never in got's options,
 * which every got error carries (`ParseError` and `CancelError` without
 * passing through any hook).
 */
const bearerOf = new WeakMap<object, string>()

const send: Record<string, typeof httpRequest> = { 'http:': httpRequest, 'https:': httpsRequest }

const withBearer = ((url: URL, native: RequestOptions, callback?: (response: IncomingMessage) => void): ClientRequest => {
  // Only requests that passed `sessionClient`'s check are made: the token is there.
  const headers = { ...native.headers, authorization: `Bearer ${bearerOf.get(native.headers as object) as string}` }
  return (send[url.protocol] as typeof httpRequest)(url, { ...native, headers }, callback)
}) as unknown as OptionsInit['request']

/**
 * The got instance behind every `request.spotify.api`: built once, so that a
 * request only pays for `extend()` when it uses the client. It knows no
 * session: `sessionClient` adds that.
 */
export function createApiClient (options: ResolvedOptions, agents: Agents, gate: RateLimitGate): Got {
  return got.extend({
    prefixUrl: `${options.apiUrl}/v1/`,
    timeout: { request: options.timeout },
    followRedirect: false,
    agent: agents,
    request: withBearer,
    pagination: spotifyPagination,
    retry: {
      limit: options.retry.limit,
      methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'],
      statusCodes: [429, 500, 502, 503, 504],
      // A Retry-After beyond the cap fails the call at once instead of
      // holding the request: Spotify has sent Retry-After of an hour.
      maxRetryAfter: options.retry.maxRetryAfter
    },
    hooks: {
      afterResponse: [
        async (response) => {
          // Before got's own retry decision: siblings stop at once, and got
          // waits out Retry-After itself before retrying this call.
          if (response.statusCode === 429) await gate.observe(response.headers['retry-after'])
          return response
        }
      ],
      beforeError: [
        (error) => {
          // got keeps the request options on its errors, and a logger prints
          // every enumerable property: hide them from serialisers.
          Object.defineProperty(error, 'options', { value: error.options, enumerable: false, writable: true, configurable: true })
          // An error of ours thrown in a hook (no session, a refused refresh)
          // comes out as it is; a call that got no answer becomes a 502/504.
          if (isSpotifyAuthError(error.cause)) return error.cause as unknown as RequestError
          if (error.response === undefined) return upstreamFailure(error, 'the Web API') as RequestError
          return error
        }
      ]
    }
  })
}

/**
 * Whether `url` (as got will request it, dot segments resolved) lies under
 * `{apiUrl}/v1/`: the only place a bearer token may go. got ignores
 * `prefixUrl` for an absolute URL, and a caller may override `prefixUrl`
 * itself, so the final URL is what is checked.
 */
export function webApiUrlCheck (apiUrl: string): (url: URL) => boolean {
  const base = new URL(`${apiUrl}/v1/`)
  return (url) => {
    const target = new URL(url)
    return target.origin === base.origin && target.pathname.startsWith(base.pathname) && target.username === '' && target.password === '' &&
      // The parser leaves `%2f`, `%5c` and `%252e` alone; a peer that decodes
      // them would read the path as leaving /v1/: refused, as by the proxy.
      safeApiPath(target.pathname.slice(base.pathname.length)) !== undefined
  }
}

/** Where a bearer client gets its token: a user's session, or the app's own token. */
export interface BearerSource {
  /** A valid access token, or a rejection (401 without a session). */
  token (): Promise<string>
  /**
   * After Spotify answered 401 to `rejected`: a renewed token, or `rejected`
   * itself when it must not be renewed (then the 401 is passed on).
   */
  renewed (rejected: string): Promise<string>
}

/**
 * A got client that authenticates every call with `source`'s bearer,
 * renews once and retries once after a 401, and sends the bearer only to
 * `{apiUrl}/v1/`. The bearer stays in `bearerOf`, never in got's options; a
 * session's id stays in its session.
 */
export function bearerClient (base: Got, source: BearerSource, underWebApi: (url: URL) => boolean, gate: RateLimitGate): Got {
  return base.extend({
    hooks: {
      beforeRequest: [
        async (requestOptions) => {
          if (!underWebApi(requestOptions.url as URL)) throw new ForeignUrlError()
          // Inside Spotify's Retry-After: fail at once, before the token is even read.
          const blocked = gate.blocked()
          if (blocked !== undefined) throw blocked
          bearerOf.set(requestOptions.headers, await source.token())
        }
      ],
      afterResponse: [
        async (response, retryWithMergedOptions) => {
          if (response.statusCode !== 401) return response
          // The token was refused before its time (revoked upstream, or a
          // sibling rotated it): renew once and retry once. got drops this
          // hook for the retry, so a second 401 comes back as it is; so does
          // a 401 to a token that must not be renewed again.
          const used = bearerOf.get(response.request.options.headers) as string
          if (await source.renewed(used) === used) return response
          return retryWithMergedOptions({})
        }
      ]
    }
  })
}

/** A session's `api`: the session is the bearer source (and forgets itself when gone or revoked). */
export function sessionClient (base: Got, session: Session, underWebApi: (url: URL) => boolean, gate: RateLimitGate): Got {
  return bearerClient(base, {
    token: () => session.required().then((token) => token.accessToken),
    renewed: (rejected) => session.renewed(rejected).then((token) => token.accessToken)
  }, underWebApi, gate)
}
