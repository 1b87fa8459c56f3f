import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import got, { type Got, type OptionsInit, type RequestError } from 'got'
import { ForeignUrlError } from '../errors.js'
import { isSpotifyAuthError, upstreamFailure } from '../failures.js'
import type { ResolvedOptions } from '../options.js'
import type { Session } from '../session/session.js'
import type { Agents } from './agents.js'

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
export function createApiClient (options: ResolvedOptions, agents: Agents): Got {
  return got.extend({
    prefixUrl: `${options.apiUrl}/v1/`,
    timeout: { request: options.timeout },
    followRedirect: false,
    agent: agents,
    request: withBearer,
    retry: {
      limit: options.retry.limit,
      methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'],
      statusCodes: [429, 500, 502, 503, 504],
      // A Retry-After beyond the cap fails the call at once instead of
      // holding the request: Spotify has sent Retry-After of an hour.
      maxRetryAfter: options.retry.maxRetryAfter
    },
    hooks: {
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
    return target.origin === base.origin && target.pathname.startsWith(base.pathname) && target.username === '' && target.password === ''
  }
}

/**
 * A session's `api`. The session id stays in the session and the bearer in
 * `bearerOf`, never in got's options; a session that is gone or revoked is
 * forgotten by the session itself, as with `getToken()`. The bearer goes only
 * to `{apiUrl}/v1/`.
 */
export function sessionClient (base: Got, session: Session, underWebApi: (url: URL) => boolean): Got {
  return base.extend({
    hooks: {
      beforeRequest: [
        async (requestOptions) => {
          if (!underWebApi(requestOptions.url as URL)) throw new ForeignUrlError()
          const token = await session.required()
          bearerOf.set(requestOptions.headers, token.accessToken)
        }
      ],
      afterResponse: [
        async (response, retryWithMergedOptions) => {
          if (response.statusCode !== 401) return response
          // The token was refused before its time (revoked upstream, or a
          // sibling rotated it): renew once and retry once. got drops this
          // hook for the retry, so a second 401 comes back as it is; so does
          // a 401 to a token too young to be refreshed again.
          const used = bearerOf.get(response.request.options.headers) as string
          const token = await session.renewed(used)
          if (token.accessToken === used) return response
          return retryWithMergedOptions({})
        }
      ]
    }
  })
}
