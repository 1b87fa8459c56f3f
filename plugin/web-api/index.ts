import type { Got } from 'got'
import type { TokenSource } from './call.js'
import { fetchClientFor, type SpotifyFetch } from './fetch-client.js'
import { createGotBase, gotClientFor, type GotRetry } from './got-client.js'
import { WebApiPolicy } from './policy.js'
import type { RateLimitGate } from './rate-limit.js'
import type { UsageCounter } from '../diagnostics/usage.js'
import { ResponseCache, type ResponseCacheLimits } from './response-cache.js'
import { fetchTransport, poolTransport } from './transport.js'
import { webApiUrlRule, type WebApiUrlRule } from './url-rule.js'

/** What the Web API side of one plugin instance is built from: resolved options. */
export interface WebApiSettings {
  readonly apiUrl: string
  readonly timeout: number
  /** `proxyResponseLimit`: the largest answer any client reads. */
  readonly responseLimit: number
  /** Retries of the got clients. */
  readonly retry: GotRetry
  /** The policy's private response cache, or `false` for none. */
  readonly cache: ResponseCacheLimits | false
}

/** The clients a token source gets: each goes through the one policy. */
export interface WebApiClients {
  /** A got client on `{apiUrl}/v1/` (a handle's `api`). */
  got (source: TokenSource): Got
  /** A WHATWG fetch for the Web API (a handle's `fetch`). */
  fetch (source: TokenSource): SpotifyFetch
}

/** The Web API side of one plugin instance. */
export interface WebApi {
  readonly policy: WebApiPolicy
  readonly rule: WebApiUrlRule
  readonly clients: WebApiClients
  /** Ends every connection to the Web API: the app is closing. */
  close (): Promise<void>
}

/**
 * Builds the call policy of one plugin instance with its transport (one
 * pool of connections for every client) and the clients the handles hand
 * out. The proxy calls `policy` itself.
 */
export function createWebApi (settings: WebApiSettings, gate: RateLimitGate, usage: UsageCounter): WebApi {
  const limits = { timeout: settings.timeout, responseLimit: settings.responseLimit }
  const transport = poolTransport(settings.apiUrl, limits)
  const policy = new WebApiPolicy(gate, transport.send, usage, settings.cache === false ? undefined : new ResponseCache(settings.cache))
  const rule = webApiUrlRule(settings.apiUrl)
  const base = createGotBase(settings.apiUrl, settings.retry)
  const origin = rule.base.origin
  return {
    policy,
    rule,
    clients: {
      got: (source) => gotClientFor(base, policy, rule, source),
      fetch: (source) => fetchClientFor(policy, rule, source, (send) => fetchTransport(send, origin, limits))
    },
    close: () => transport.close()
  }
}
