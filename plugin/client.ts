import got, { type Got, type RequestError, TimeoutError } from 'got'
import type { Agents } from './agents.js'
import type { Authenticator } from './authenticator.js'
import { because, NoSessionError, UpstreamError, UpstreamTimeoutError } from './errors.js'
import type { ResolvedOptions } from './options.js'

function isOurError (value: unknown): value is Error & { code: string } {
  const code = (value as { code?: unknown } | undefined)?.code
  return value instanceof Error && typeof code === 'string' && code.startsWith('FST_SPOTIFY_')
}

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
          if (isOurError(error.cause)) return error.cause as RequestError
          if (error instanceof TimeoutError) return new UpstreamTimeoutError(because(error)) as unknown as RequestError
          if (error.response === undefined) {
            return new UpstreamError('the Web API could not be reached', because(error)) as unknown as RequestError
          }
          return error
        }
      ]
    }
  })
}

const BEARER = 'Bearer '.length

/**
 * A `request.spotify.api` for one session. The session id lives in these
 * hooks' closures, never in got's options (which end up on error objects).
 * `revoked` runs when Spotify ended the session, so that its cookie is
 * cleared as `getToken()` would.
 */
export function sessionClient (base: Got, authenticator: Authenticator, sessionId: string | undefined, revoked: () => void): Got {
  return base.extend({
    hooks: {
      beforeRequest: [
        async (requestOptions) => {
          const token = sessionId === undefined ? undefined : await authenticator.tokenFor(sessionId)
          if (token === undefined) throw new NoSessionError()
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
          const token = await authenticator.renew(sessionId as string, used)
          if (token === undefined) throw new NoSessionError()
          return retryWithMergedOptions({ headers: { authorization: `Bearer ${token.accessToken}` } })
        }
      ],
      beforeError: [
        (error) => {
          if ((error as { code?: string }).code === 'FST_SPOTIFY_SESSION_REVOKED') revoked()
          return error
        }
      ]
    }
  })
}
