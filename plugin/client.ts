import got, { type Got, type RequestError, TimeoutError } from 'got'
import type { Agents } from './agents.js'
import type { Authenticator } from './authenticator.js'
import { NoSessionError, UpstreamError, UpstreamTimeoutError } from './errors.js'
import type { ResolvedOptions } from './options.js'

/** What each `request.spotify.api` instance carries in got's `context`. */
interface SessionContext {
  sessionId: string | undefined
  accessToken?: string
}

function isOurError (value: unknown): value is Error & { code: string } {
  const code = (value as { code?: unknown } | undefined)?.code
  return value instanceof Error && typeof code === 'string' && code.startsWith('FST_SPOTIFY_')
}

/**
 * The got instance behind every `request.spotify.api`: built once, so that a
 * request only pays for `extend({ context })` when it uses the client.
 */
export function createApiClient (options: ResolvedOptions, agents: Agents, authenticator: Authenticator): Got {
  async function bearer (context: SessionContext): Promise<string> {
    const token = context.sessionId === undefined ? undefined : await authenticator.tokenFor(context.sessionId)
    if (token === undefined) throw new NoSessionError()
    return token.accessToken
  }

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
      beforeRequest: [
        async (requestOptions) => {
          const context = requestOptions.context as unknown as SessionContext
          context.accessToken = await bearer(context)
          requestOptions.headers.authorization = `Bearer ${context.accessToken}`
        }
      ],
      afterResponse: [
        async (response, retryWithMergedOptions) => {
          if (response.statusCode !== 401) return response
          // The token was refused before its time (revoked upstream, or a
          // sibling rotated it): renew once and retry once. got drops this
          // hook for the retry, so a second 401 comes back as it is.
          const context = response.request.options.context as unknown as SessionContext
          const token = await authenticator.renew(context.sessionId as string, context.accessToken as string)
          if (token === undefined) throw new NoSessionError()
          context.accessToken = token.accessToken
          return retryWithMergedOptions({ headers: { authorization: `Bearer ${token.accessToken}` } })
        }
      ],
      beforeError: [
        (error) => {
          // got keeps the request options on its errors, our bearer token
          // included: never let that reach a log line.
          const headers = error.options?.headers
          if (headers?.authorization !== undefined) headers.authorization = 'Bearer [redacted]'
          if (isOurError(error.cause)) return error.cause as RequestError
          if (error instanceof TimeoutError) return new UpstreamTimeoutError({ cause: error }) as unknown as RequestError
          if (error.response === undefined) {
            return new UpstreamError('the Web API could not be reached', { cause: error }) as unknown as RequestError
          }
          return error
        }
      ]
    }
  })
}

/**
 * A `request.spotify.api` for one session; `revoked` runs when Spotify ended
 * the session, so that its cookie is cleared as `getToken()` would.
 */
export function sessionClient (base: Got, sessionId: string | undefined, revoked: () => void): Got {
  return base.extend({
    context: { sessionId },
    hooks: {
      beforeError: [
        (error) => {
          if ((error as { code?: string }).code === 'FST_SPOTIFY_SESSION_REVOKED') revoked()
          return error
        }
      ]
    }
  })
}
