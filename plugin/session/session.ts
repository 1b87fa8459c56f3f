import type { Got } from 'got'
import { NoSessionError, SessionRevokedError } from '../errors.js'
import { storeCall } from '../failures.js'
import type { SpotifyToken, TokenStore } from '../store/types.js'
import type { TokenSource } from '../web-api/call.js'
import type { SpotifyFetch } from '../web-api/fetch-client.js'
import type { WebApiClients } from '../web-api/index.js'
import type { SessionTokens } from './tokens.js'
import type { SessionEndReason } from '../diagnostics/channels.js'
import { sessionEnded } from '../diagnostics/session-events.js'
import type { SessionTag } from '../diagnostics/session-tag.js'

/** One user's Spotify session, inside a request (`request.spotify`) or outside one. */
export interface SpotifySession {
  /** The session id, or `undefined` when there is no session (or it has ended). */
  readonly sessionId: string | undefined
  /**
   * The session's valid token (refreshed first if needed), or `null` without a
   * session. Rejects with `FST_SPOTIFY_SESSION_REVOKED` when Spotify ended the
   * session, and with the 502/504/503 errors when Spotify or the store fail.
   */
  getToken (): Promise<SpotifyToken | null>
  /** A valid access token, or a rejection with `FST_SPOTIFY_NO_SESSION` (401). */
  accessToken (): Promise<string>
  /**
   * Refreshes the session's token now, whatever its expiry (one refresh even
   * when called concurrently), and resolves the new token, or `null` without
   * a session. Rejects like `getToken()`.
   *
   * With `rejected`, an access token the Web API answered 401 to, it
   * refreshes only while that token is still the stored one and older than
   * `refreshCooldown`; otherwise it resolves the stored token as it is (the
   * one that replaced `rejected`, or `rejected` itself: then pass the 401 on).
   */
  refresh (rejected?: string): Promise<SpotifyToken | null>
  /**
   * A `got` instance bound to `{apiUrl}/v1/` that authenticates every call as
   * this session, refreshes before expiry and retries once after a 401. got
   * only describes each call: the plugin sends it, under its own `timeout`
   * (got's `timeout` option has no effect; pass `signal` to end a call
   * sooner).
   */
  readonly api: Got
  /**
   * WHATWG fetch for the Web API, authenticated as this session: `input`
   * relative to `{apiUrl}/v1/` (or an absolute URL under it), a renewed
   * token and one more try after a 401, any status resolved with its body
   * (see `SpotifyFetch`). What `spotifySdk()` builds on.
   */
  readonly fetch: SpotifyFetch
  /** Deletes the session from the store. */
  end (): Promise<void>
}

/** What every session shares: built once per plugin instance. */
export interface SessionServices {
  readonly tokens: SessionTokens
  readonly store: TokenStore
  /** Makes a session's `api` and `fetch`: the Web API's clients, with the session as their token source. */
  readonly clients: WebApiClients
  /** How a session is named on the diagnostics channels. */
  readonly tag: SessionTag
}

/**
 * The one place where a session's token is loaded, and where a session that
 * turns out to be gone (logout elsewhere, store expiry) or revoked by Spotify
 * is forgotten. Every entry point (the proxy, `authenticate`, the got client,
 * `request.spotify`, a background job's handle, logout) goes through it.
 * Subclasses decide what forgetting means beyond that (the request's session
 * clears its cookie).
 */
export class Session implements SpotifySession, TokenSource {
  readonly #services: SessionServices
  #sessionId: string | undefined
  #api: Got | undefined
  #fetch: SpotifyFetch | undefined

  constructor (services: SessionServices, sessionId: string | undefined) {
    this.#services = services
    this.#sessionId = sessionId
  }

  get sessionId (): string | undefined {
    return this.#sessionId
  }

  /** The call policy's partition (`TokenSource.partition`): this session's own answers, whatever handle calls. */
  get partition (): string | undefined {
    return this.#sessionId === undefined ? undefined : `s ${this.#sessionId}`
  }

  getToken (): Promise<SpotifyToken | null> {
    return this.#load((tokens, sessionId) => tokens.valid(sessionId)).then(orNull)
  }

  accessToken (): Promise<string> {
    return this.required().then((token) => token.accessToken)
  }

  refresh (rejected?: string): Promise<SpotifyToken | null> {
    return this.#load((tokens, sessionId) => tokens.refresh(sessionId, rejected)).then(orNull)
  }

  get api (): Got {
    this.#api ??= this.#services.clients.got(this)
    return this.#api
  }

  get fetch (): SpotifyFetch {
    this.#fetch ??= this.#services.clients.fetch(this)
    return this.#fetch
  }

  end (): Promise<void> {
    return this.endFor('logout')
  }

  /** `end()`, with the reason the `session` channel gives. */
  async endFor (reason: SessionEndReason): Promise<void> {
    const sessionId = this.#sessionId
    if (sessionId !== undefined) {
      // Delete first: when the store fails, the session is still known and
      // can be ended again, rather than left live behind a forgotten id.
      await storeCall(() => this.#services.store.delete(sessionId))
      sessionEnded(this.#services.tag, sessionId, reason)
    }
    this.#forget()
  }

  /**
   * The session's token as the store holds it, even near expiry: no call to
   * Spotify (what the session routes show). A 401 (`FST_SPOTIFY_NO_SESSION`)
   * without a session.
   */
  stored (): Promise<SpotifyToken> {
    return this.#load((tokens, sessionId) => tokens.stored(sessionId)).then(orNoSession)
  }

  /** The session's valid token, or a 401 (`FST_SPOTIFY_NO_SESSION`). */
  required (): Promise<SpotifyToken> {
    return this.#load((tokens, sessionId) => tokens.valid(sessionId)).then(orNoSession)
  }

  /** After Spotify answered 401 to `rejected`: a renewed token (or the one that replaced it), or a 401. */
  renewed (rejected: string): Promise<SpotifyToken> {
    return this.#load((tokens, sessionId) => tokens.refresh(sessionId, rejected)).then(orNoSession)
  }

  /** Called once the session is known to be over. */
  protected forgotten (): void {}

  /** `load`'s token for this session, forgetting the session when it turns out gone or revoked. */
  #load (load: (tokens: SessionTokens, sessionId: string) => Promise<SpotifyToken | undefined>): Promise<SpotifyToken | undefined> {
    const sessionId = this.#sessionId
    if (sessionId === undefined) return Promise.resolve(undefined)
    return load(this.#services.tokens, sessionId).then((token) => {
      if (token === undefined) {
        sessionEnded(this.#services.tag, sessionId, 'ended-elsewhere')
        this.#forget()
      }
      return token
    }, (err: unknown) => {
      if (err instanceof SessionRevokedError) this.#forget()
      throw err
    })
  }

  #forget (): void {
    this.#sessionId = undefined
    this.forgotten()
  }
}

function orNull (token: SpotifyToken | undefined): SpotifyToken | null {
  return token ?? null
}

function orNoSession (token: SpotifyToken | undefined): SpotifyToken {
  if (token === undefined) throw new NoSessionError()
  return token
}
