import type { WebApiTarget } from './url-rule.js'

/** A token a call may carry: what a {@link TokenSource} hands out. */
export interface BearerToken {
  readonly accessToken: string
}

/**
 * Where a call's bearer comes from: a user's session (`Session`), or the
 * app's own Client Credentials token (`AppTokens`).
 */
export interface TokenSource {
  /**
   * A valid token, refreshed first when near expiry; or a rejection: 401
   * `FST_SPOTIFY_NO_SESSION` without a session, 502/503/504 when Spotify or
   * the store fail.
   */
  required (): Promise<BearerToken>
  /**
   * After the Web API answered 401 to `rejected`: the token that replaced it
   * (renewed now, once for concurrent callers, unless someone already did),
   * or `rejected`'s own when it must not be renewed again (it is younger
   * than `refreshCooldown`): then the 401 is the answer.
   */
  renewed (rejected: string): Promise<BearerToken>
  /**
   * Whose answers these are, for the call policy's merged requests and
   * response cache: one value per session (or one for the app's token),
   * never shared by two sessions, kept in memory only. `undefined`: the
   * source's calls are neither merged nor cached.
   */
  readonly partition?: string | undefined
}

/**
 * Where an answer came from: `network` (Spotify answered this call),
 * `merged` (an identical call in flight shared its answer) or `cache` (the
 * policy's private response cache answered, fresh or after Spotify's 304).
 */
export type AnswerSource = 'network' | 'merged' | 'cache'

/** One call to the Web API, as every client describes it: plain data. */
export interface WebApiCall {
  readonly method: string
  /** Where it goes: the URL rule made it, nothing else can. */
  readonly target: WebApiTarget
  /**
   * End-to-end request headers, lower-case, without `authorization`: the
   * policy writes the bearer into this object, so it is the call's own.
   */
  readonly headers: Record<string, string>
  /** The whole body (so that it can be sent again after a 401), or `null`. */
  readonly body: Buffer | string | null
  /** The caller's own end of the call, if it has one. */
  readonly signal?: AbortSignal | undefined
}

/** Spotify's answer, whole: status, headers (lower-case names) and body. */
export interface WebApiAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[]>>
  readonly body: Buffer
  /** Where it came from: set by the call policy on what `call()` resolves, absent on a transport's. */
  readonly source?: AnswerSource
}

/**
 * What carries a call with its bearer to the Web API and brings the whole
 * answer back, under the plugin's `timeout` and the response size cap. A
 * call that gets no answer rejects with the plugin's 502/504
 * (`failures.ts`); any status is an answer.
 */
export type Transport = (call: WebApiCall) => Promise<WebApiAnswer>
