import { Readable } from 'node:stream'
import got, { type Got, type Options, type RequestError, type RetryOptions } from 'got'
import { ForeignUrlError } from '../errors.js'
import { isSpotifyAuthError, upstreamFailure } from '../failures.js'
import type { TokenSource, WebApiAnswer } from './call.js'
import { endToEndHeaders } from './hop-by-hop.js'
import { spotifyPagination } from './paging.js'
import type { WebApiPolicy } from './policy.js'
import { isUnanswered } from './transport.js'
import type { WebApiUrlRule } from './url-rule.js'

/** The got client's retries (`options.retry`). */
export interface GotRetry {
  readonly limit: number
  readonly maxRetryAfter: number
}

/**
 * got retries a network error of an idempotent call; the transport's "no
 * answer" (a 502/504 of ours) is what a network error has become, so it is
 * retried the same way, with got's own backoff.
 */
function retryDelay ({ attemptCount, retryOptions, error, computedValue }: Parameters<RetryOptions['calculateDelay']>[0]): number {
  if (computedValue !== 0 || attemptCount > retryOptions.limit || !isUnanswered(error.cause) ||
    !retryOptions.methods.includes(error.options.method)) return computedValue
  return Math.min(2 ** (attemptCount - 1) * 1000, retryOptions.backoffLimit) + Math.random() * retryOptions.noise
}

/**
 * The got instance behind every got client: built once, so that a handle
 * only pays for `extend()` when it uses its client. It knows no token
 * source (`gotClientFor` adds one) and holds no connection: each request is
 * handed to the call policy, which answers it whole.
 */
export function createGotBase (apiUrl: string, retry: GotRetry): Got {
  return got.extend({
    prefixUrl: `${apiUrl}/v1/`,
    followRedirect: false,
    pagination: spotifyPagination,
    retry: {
      limit: retry.limit,
      methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'],
      statusCodes: [429, 500, 502, 503, 504],
      // A Retry-After beyond the cap fails the call at once instead of
      // holding the request: Spotify has sent Retry-After of an hour.
      maxRetryAfter: retry.maxRetryAfter,
      calculateDelay: retryDelay
    },
    hooks: {
      beforeError: [
        (error) => {
          // got keeps the request options on its errors, and a logger prints
          // every enumerable property: they hold no token, but they are noise.
          Object.defineProperty(error, 'options', { value: error.options, enumerable: false, writable: true, configurable: true })
          // An error of ours (no session, a refused refresh, the window, no
          // answer) comes out as it is; any other call that got no answer
          // becomes a 502/504.
          if (isSpotifyAuthError(error.cause)) return error.cause as unknown as RequestError
          if (error.response === undefined) return upstreamFailure(error, 'the Web API') as RequestError
          return error
        }
      ]
    }
  })
}

/** The request body as the policy takes it: whole, so that it can be sent again after a 401. */
async function wholeBody (body: Options['body']): Promise<Buffer | string | null> {
  if (body === undefined) return null
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body
  const chunks: Buffer[] = []
  for await (const chunk of body as AsyncIterable<string | Uint8Array>) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

/**
 * The policy's answer as got takes it from a `beforeRequest` hook: a
 * response-like stream (got reads, decodes and parses it as it would a
 * socket's; it names the status itself), holding the answer and nothing
 * else.
 */
function responseLike (answer: WebApiAnswer, url: string): Readable {
  return Object.assign(Readable.from([answer.body], { objectMode: false }), { statusCode: answer.status, headers: answer.headers, url })
}

/**
 * A got client whose calls go through `policy` with `source`'s bearer. It
 * keeps got's API (hooks, retries, pagination, `.json()`), but got only
 * describes each request: its final URL must pass the URL rule (got ignores
 * `prefixUrl` for an absolute URL, and a caller may override `prefixUrl`
 * itself), and the policy sends it. got never holds the bearer or a
 * connection, so none of its errors can reach either.
 */
export function gotClientFor (base: Got, policy: WebApiPolicy, rule: WebApiUrlRule, source: TokenSource): Got {
  return base.extend({
    hooks: {
      beforeRequest: [
        async (options) => {
          const url = options.url as URL
          const target = rule.absolute(url)
          if (target === undefined) throw new ForeignUrlError()
          const answer = await policy.call(source, {
            method: options.method,
            target,
            // got has dropped the headers set to undefined by now.
            headers: endToEndHeaders(Object.entries(options.headers) as Array<[string, string | string[]]>, options.headers.connection),
            body: await wholeBody(options.body),
            signal: options.signal
          })
          return responseLike(answer, url.href) as never
        }
      ]
    }
  })
}
