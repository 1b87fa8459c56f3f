import type { BearerToken, TokenSource, Transport, WebApiAnswer, WebApiCall } from './call.js'
import { etagMatches, requestDirectivesOf } from './cache-rules.js'
import { InFlightCalls, mergeKey } from './merge.js'
import { reasonOf429 } from './quota.js'
import type { RateLimitGate } from './rate-limit.js'
import type { CacheEntry, ResponseCache } from './response-cache.js'
import { answerSource, traced, webApiChannel, type WebApiMessage } from '../diagnostics/channels.js'
import type { UsageCounter } from '../diagnostics/usage.js'
import { routeTemplate } from '../diagnostics/route-template.js'

/** What one call may change about how the policy makes it. */
export interface CallOptions {
  /**
   * A token the caller already took from the same source for this very call
   * (the proxy takes it before it reads a request's body): not taken again.
   */
  readonly token?: BearerToken | undefined
  /** Carries this call instead of the plugin's pool (a fetch of the app's own, for the SDK adapter). */
  readonly transport?: Transport | undefined
}

/**
 * The one rule for calling the Web API with a bearer. Every client goes
 * through `call()`: the `/spotify/*` proxy (`routes/proxy.ts`), the got
 * clients (`got-client.ts`: `request.spotify.api`, a session handle's
 * `api`, `fastify.spotify.app.api`), the handles' `fetch` (`fetch-client.ts`)
 * and, through that, the official SDK's adapter (`sdk/index.ts`). In order:
 *
 * 1. the app's rate-limit window (`rate-limit.ts`): inside a 429's
 *    `Retry-After`, the call fails with `FST_SPOTIFY_RATE_LIMITED` before a
 *    token is even read;
 * 2. the bearer, from the call's {@link TokenSource} (a session, or the
 *    app's token), written into the call's headers and nowhere else;
 * 3. the transport (`transport.ts`): the call goes to its target (which only
 *    the URL rule, `url-rule.ts`, can make), and the whole answer comes back
 *    under `timeout` and the size cap, or the call fails with the plugin's
 *    502/504;
 * 4. a 429 opens the window for every client of the app (and, through the
 *    store, every instance); one whose body says `QUOTA_EXCEEDED` opens it
 *    as a quota window (`quota.ts`) and fails with
 *    `FST_SPOTIFY_QUOTA_EXCEEDED`;
 * 5. a 401 renews the token once and sends the call once more, unless the
 *    source says the token must not be renewed (`refreshCooldown`): then the
 *    401 is the answer, and so is a second one.
 *
 * Identical reads of one partition (a session, or the app's token) in
 * flight together make one call after step 2 (`merge.ts`); the answer's
 * `source` says `network` or `merged`.
 *
 * A client turns what it was asked into a {@link WebApiCall} and the
 * {@link WebApiAnswer} into what its caller expects; it copies none of the
 * above. A fifth client needs a target from the URL rule, a token source,
 * and this method. What every call should gain (a response cache, merged
 * identical GETs, a diagnostics channel, a quota error of its own) belongs
 * here too: a cache answers before step 1 (or revalidates in step 3), calls
 * merge around steps 2–5 per source and target, and a channel publishes
 * around step 3.
 */
export class WebApiPolicy {
  readonly #gate: RateLimitGate
  readonly #transport: Transport
  /** Identical reads in flight, per partition (`merge.ts`). */
  readonly #inFlight = new InFlightCalls()
  /** The private response cache (`response-cache.ts`), unless the `cache` option is `false`. */
  readonly #cache: ResponseCache | undefined

  readonly #usage: UsageCounter

  /**
   * `usage`: counts every request sent and every answer from elsewhere, for
   * `fastify.spotify.usage()`; `cache`: unless the `cache` option is `false`.
   */
  constructor (gate: RateLimitGate, transport: Transport, usage: UsageCounter, cache?: ResponseCache) {
    this.#gate = gate
    this.#transport = transport
    this.#usage = usage
    this.#cache = cache
  }

  /**
   * The `FST_SPOTIFY_RATE_LIMITED` (or `FST_SPOTIFY_QUOTA_EXCEEDED`) error while the app's window is open,
   * otherwise `undefined`: for a client that can refuse a call earlier than
   * `call()` would (the proxy, before it reads a body).
   */
  blocked (): ReturnType<RateLimitGate['blocked']> {
    return this.#gate.blocked()
  }

  /**
   * Makes `call` with a bearer of `source`; resolves Spotify's answer,
   * whatever its status. Traced on the `web-api` diagnostics channel when
   * anyone subscribes.
   */
  call (source: TokenSource, call: WebApiCall, options?: CallOptions): Promise<WebApiAnswer> {
    if (!webApiChannel.hasSubscribers) return this.#call(source, call, options, undefined)
    const message: WebApiMessage = { method: call.method, route: routeTemplate(call.target), attempts: 0 }
    return traced(webApiChannel, message, () => this.#call(source, call, options, message).then((answer) => {
      message.status = answer.status
      message.source = answerSource(answer)
      return answer
    }))
  }

  /** `call()`; `note` counts the sends. */
  async #call (source: TokenSource, call: WebApiCall, options: CallOptions | undefined, note: WebApiMessage | undefined): Promise<WebApiAnswer> {
    const cacheKey = this.#cache?.keyOf(source.partition, call)
    // Inside the window, a fresh cached answer is still served (after the
    // session check below); anything else fails before a token is read.
    const blocked = this.#gate.blocked()
    if (blocked !== undefined && (cacheKey === undefined || this.#fresh(cacheKey, call) === undefined)) throw blocked
    // Taken before a merge or a cached answer: a caller joins a call in
    // flight, or reads its partition's cache, only once its own session
    // proved live.
    const token = options?.token ?? await source.required()
    const answer = cacheKey !== undefined
      ? await this.#cachedRead(source, call, options, cacheKey, token, note)
      : await this.#mergedSend(source, call, options, token, note)
    // A page never reads back what it just changed.
    if (answer.status >= 200 && answer.status < 300 && call.method !== 'GET' && call.method !== 'HEAD' && source.partition !== undefined) {
      this.#cache?.invalidate(source.partition, call.target)
    }
    this.#usage.answered(call.target, answer)
    return answer
  }

  /**
   * A GET the cache may answer: after step 2 (a session's answers are
   * served only to a session still live), a fresh entry is the answer, even
   * inside the rate-limit window, and so is a stale one within the allowed
   * `max-stale`; a staler one is revalidated with its
   * `ETag` and a 304 serves it again. The caller's own `no-store` passes the
   * cache by, its `no-cache` always asks Spotify, its `If-None-Match` is
   * answered from a fresh entry or sent as it is.
   */
  async #cachedRead (source: TokenSource, call: WebApiCall, options: CallOptions | undefined, key: string, token: BearerToken, note: WebApiMessage | undefined): Promise<WebApiAnswer> {
    const cache = this.#cache as ResponseCache
    const theirs = call.headers['if-none-match']
    const fresh = this.#fresh(key, call)
    if (fresh !== undefined) return answerOf(fresh, theirs)
    const asked = requestDirectivesOf(call.headers)
    const entry = asked.bypass ? undefined : cache.get(key)
    const ours = entry?.etag !== undefined && theirs === undefined
    if (ours) call.headers['if-none-match'] = entry.etag
    const answer = await this.#mergedSend(source, call, options, token, note)
    if (asked.bypass || answer.source !== 'network') return ours && answer.status === 304 ? answerOf(entry, undefined) : answer
    if (ours && answer.status === 304) {
      cache.confirm(entry, answer, Date.now())
      return answerOf(entry, undefined)
    }
    if (answer.status !== 304) cache.store(key, source.partition as string, call.target, answer, Date.now())
    return answer
  }

  /**
   * The entry that may answer `call` without asking Spotify: fresh, or stale
   * within the `max-stale` the caller (or the app's `cache.maxStale`)
   * allows, and the caller asked for no revalidation.
   */
  #fresh (key: string, call: WebApiCall): CacheEntry | undefined {
    const asked = requestDirectivesOf(call.headers)
    if (asked.bypass || asked.revalidate) return undefined
    return (this.#cache as ResponseCache).usable(key, asked.maxStale, Date.now())
  }

  /** Steps 3 to 5 once for identical reads in flight together (`merge.ts`), or for this call alone. */
  #mergedSend (source: TokenSource, call: WebApiCall, options: CallOptions | undefined, token: BearerToken, note: WebApiMessage | undefined): Promise<WebApiAnswer> {
    const transport = options?.transport ?? this.#transport
    const key = mergeKey(source, call)
    if (key === undefined) return this.#send(source, transport, call, token, note)
    return this.#inFlight.run(key, () => this.#send(source, transport, call, token, note))
  }

  /** Steps 3 to 5: the call on the wire with its bearer, a renewal after a 401, the window after a 429. */
  async #send (source: TokenSource, transport: Transport, call: WebApiCall, token: BearerToken, note: WebApiMessage | undefined): Promise<WebApiAnswer> {
    call.headers.authorization = `Bearer ${token.accessToken}`
    if (note !== undefined) note.attempts = 1
    this.#usage.call(call.target, 'network')
    let answer = await transport(call)
    if (answer.status === 401) answer = await this.#afterRefusal(source, transport, call, token, answer, note)
    if (answer.status === 429) await this.#after429(answer)
    return { ...answer, source: 'network' }
  }

  /**
   * Every client, and every instance sharing the store, waits a 429 out. A
   * rate limit's 429 is passed on as it came; a spent quota's becomes the
   * plugin's own `FST_SPOTIFY_QUOTA_EXCEEDED` at once, as every call after
   * it will be until `Retry-After` has passed.
   */
  async #after429 (answer: WebApiAnswer): Promise<void> {
    const reason = reasonOf429(answer)
    this.#usage.limited(reason ?? 'rate')
    await this.#gate.observe(answer.headers['retry-after'], reason)
    if (reason === undefined) return
    const blocked = this.#gate.blocked()
    if (blocked !== undefined) throw blocked
  }

  /**
   * Refused before its time (revoked upstream, or a sibling rotated it):
   * the answer to the call sent once more with a renewed token, or the
   * refusal itself when the source will not renew it.
   */
  async #afterRefusal (source: TokenSource, transport: Transport, call: WebApiCall, token: BearerToken, refusal: WebApiAnswer, note: WebApiMessage | undefined): Promise<WebApiAnswer> {
    const renewed = await source.renewed(token.accessToken)
    if (renewed.accessToken === token.accessToken) return refusal
    call.headers.authorization = `Bearer ${renewed.accessToken}`
    if (note !== undefined) note.attempts = 2
    this.#usage.call(call.target, 'network')
    return await transport(call)
  }
}

/**
 * A cached entry as an answer: with its `Age`, or a 304 when the caller's
 * own `If-None-Match` names it.
 */
function answerOf (entry: CacheEntry, theirs: string | undefined): WebApiAnswer {
  const age = String(Math.floor((Date.now() - entry.storedAt) / 1000) + (Number(entry.headers.age) || 0))
  if (theirs !== undefined && entry.etag !== undefined && etagMatches(theirs, entry.etag)) {
    const { 'content-length': _length, 'content-type': _type, ...headers } = entry.headers
    return { status: 304, headers: { ...headers, age }, body: Buffer.alloc(0), source: 'cache' }
  }
  return { status: entry.status, headers: { ...entry.headers, age }, body: entry.body, source: 'cache' }
}
