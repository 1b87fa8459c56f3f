import got, { type Got, type RequestError } from 'got'
import { isSpotifyAuthError, upstreamFailure } from '../failures.js'
import type { ResolvedOptions } from '../options.js'
import type { Session } from '../session/session.js'
import type { Agents } from './agents.js'

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
          // got keeps the request options on its errors, our bearer token
          // included, and a logger prints every enumerable property: redact
          // the header and hide the options from serialisers.
          const headers = error.options?.headers
          if (headers?.authorization !== undefined) headers.authorization = 'Bearer [redacted]'
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

const BEARER = 'Bearer '.length

/**
 * A session's `api`. The session id stays in the session, never in got's
 * options (which end up on error objects); a session that is gone or revoked
 * is forgotten by the session itself, as with `getToken()`.
 */
export function sessionClient (base: Got, session: Session): Got {
  return base.extend({
    hooks: {
      beforeRequest: [
        async (requestOptions) => {
          const token = await session.required()
          requestOptions.headers.authorization = `Bearer ${token.accessToken}`
        }
      ],
      afterResponse: [
        async (response, retryWithMergedOptions) => {
          if (response.statusCode !== 401) return response
          // The token was refused before its time (revoked upstream, or a
          // sibling rotated it): renew once and retry once. got drops this
          // hook for the retry, so a second 401 comes back as it is.
          const used = (response.request.options.headers.authorization as string).slice(BEARER)
          const token = await session.renewed(used)
          return retryWithMergedOptions({ headers: { authorization: `Bearer ${token.accessToken}` } })
        }
      ]
    }
  })
}
