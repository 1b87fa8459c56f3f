import type { BearerToken, TokenSource, Transport, WebApiAnswer, WebApiCall } from './call.js'
import { reasonOf429 } from './quota.js'
import type { RateLimitGate } from './rate-limit.js'

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

  constructor (gate: RateLimitGate, transport: Transport) {
    this.#gate = gate
    this.#transport = transport
  }

  /**
   * The `FST_SPOTIFY_RATE_LIMITED` (or `FST_SPOTIFY_QUOTA_EXCEEDED`) error while the app's window is open,
   * otherwise `undefined`: for a client that can refuse a call earlier than
   * `call()` would (the proxy, before it reads a body).
   */
  blocked (): ReturnType<RateLimitGate['blocked']> {
    return this.#gate.blocked()
  }

  /** Makes `call` with a bearer of `source`; resolves Spotify's answer, whatever its status. */
  async call (source: TokenSource, call: WebApiCall, options?: CallOptions): Promise<WebApiAnswer> {
    const blocked = this.#gate.blocked()
    if (blocked !== undefined) throw blocked
    const transport = options?.transport ?? this.#transport
    const token = options?.token ?? await source.required()
    call.headers.authorization = `Bearer ${token.accessToken}`
    let answer = await transport(call)
    if (answer.status === 401) answer = await this.#afterRefusal(source, transport, call, token, answer)
    if (answer.status === 429) await this.#after429(answer)
    return answer
  }

  /**
   * Every client, and every instance sharing the store, waits a 429 out. A
   * rate limit's 429 is passed on as it came; a spent quota's becomes the
   * plugin's own `FST_SPOTIFY_QUOTA_EXCEEDED` at once, as every call after
   * it will be until `Retry-After` has passed.
   */
  async #after429 (answer: WebApiAnswer): Promise<void> {
    const reason = reasonOf429(answer)
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
  async #afterRefusal (source: TokenSource, transport: Transport, call: WebApiCall, token: BearerToken, refusal: WebApiAnswer): Promise<WebApiAnswer> {
    const renewed = await source.renewed(token.accessToken)
    if (renewed.accessToken === token.accessToken) return refusal
    call.headers.authorization = `Bearer ${renewed.accessToken}`
    return await transport(call)
  }
}
