import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { StoreUnsupportedError, TooEarlyError } from '../errors.js'
import { storeCall } from '../failures.js'
import type { SpotifyToken, TokenStore } from '../store/types.js'
import { newSessionId, type SessionCookie } from './cookie.js'
import { sessionEnded, sessionStarted } from '../diagnostics/session-events.js'
import { Session, type SessionServices, type SpotifySession } from './session.js'

/** What `request.spotify` offers a handler: the request's session, and its cookie. */
export interface SpotifyRequest extends SpotifySession {
  /** This request's session id, or `undefined` without a valid session cookie. */
  readonly sessionId: string | undefined
  /** Ends the session (`end()`) and clears the cookie. */
  logout (): Promise<void>
}

/** A request's session: a `Session` whose id comes from the cookie, and whose end clears it. */
export class RequestSession extends Session implements SpotifyRequest {
  readonly #cookie: SessionCookie
  readonly #reply: FastifyReply
  readonly #hasCookie: boolean

  /** `hasCookie`: the browser holds a session cookie (valid or not), so forgetting must clear it. */
  constructor (services: SessionServices, cookie: SessionCookie, reply: FastifyReply, sessionId: string | undefined, hasCookie: boolean) {
    super(services, sessionId)
    this.#cookie = cookie
    this.#reply = reply
    this.#hasCookie = hasCookie
  }

  logout (): Promise<void> {
    return this.end()
  }

  protected override forgotten (): void {
    // The browser stops sending a cookie that can no longer work; a browser
    // that sent none gets no Set-Cookie at all.
    if (this.#hasCookie) this.#cookie.clear(this.#reply)
  }
}

const kSession = Symbol('fastify-spotify-auth.session')
const kReply = Symbol('fastify-spotify-auth.reply')

interface Slots {
  [kSession]: RequestSession | null
  [kReply]: FastifyReply | null
}

/**
 * The home of sessions: which session a request has (from its signed
 * cookie, built once per request and shared by `request.spotify`, the proxy
 * and `authenticate`), how one begins (login) and how one is reached outside
 * any request (a background job). Cookies are read and written here and in
 * `RequestSession`, nowhere else.
 */
export class Sessions {
  readonly #services: SessionServices
  readonly #cookie: SessionCookie
  readonly #maxPerUser: number

  /** `maxPerUser`: most live sessions of one user; a login beyond it ends their least recently used. */
  constructor (services: SessionServices, cookie: SessionCookie, maxPerUser: number) {
    this.#services = services
    this.#cookie = cookie
    this.#maxPerUser = maxPerUser
  }

  /**
   * Declares the per-request slots. `request.spotify` needs the reply (to set
   * or clear the cookie), which a request does not reference: one assignment
   * per request keeps it at hand, and the session itself is only built when
   * something reads it.
   */
  static prepare (app: FastifyInstance): void {
    app.decorateRequest(kSession, null)
    app.decorateRequest(kReply, null)
    app.addHook('onRequest', (request, reply, done) => {
      (request as unknown as Slots)[kReply] = reply
      done()
    })
  }

  /** The session of a request, with or without its reply at hand. */
  of (request: FastifyRequest, reply?: FastifyReply): RequestSession {
    const slots = request as unknown as Slots
    let session = slots[kSession]
    if (session === null) {
      const known = reply ?? slots[kReply]
      if (known === null) throw new TooEarlyError()
      session = new RequestSession(this.#services, this.#cookie, known, this.#cookie.read(request, known), this.#cookie.sent(request))
      slots[kSession] = session
    }
    return session
  }

  /** A session outside any request: no cookie is read or written. */
  open (sessionId: string): Session {
    return new Session(this.#services, sessionId)
  }

  /**
   * A login's new session: the browser's previous session ends, and the token
   * is stored under a new id (an id planted before login is never promoted:
   * session fixation). `accept` (the app's `onLogin`) runs before the browser
   * gets the cookie; when it throws, the new session is deleted again.
   */
  async begin (request: FastifyRequest, reply: FastifyReply, token: SpotifyToken,
    accept: (sessionId: string) => Promise<void> | void): Promise<string> {
    const { store } = this.#services
    const previous = this.of(request, reply).sessionId
    if (previous !== undefined) {
      await storeCall(() => store.delete(previous))
      sessionEnded(this.#services.tag, previous, 'replaced')
    }
    const sessionId = newSessionId()
    await storeCall(() => store.set(sessionId, token))
    try {
      await accept(sessionId)
    } catch (err) {
      await storeCall(() => store.delete(sessionId))
      throw err
    }
    sessionStarted(this.#services.tag, sessionId)
    await this.#cap(token.userId, sessionId)
    this.#cookie.write(reply, sessionId, token.refreshTokenExpiresAt);
    (request as unknown as Slots)[kSession] = new RequestSession(this.#services, this.#cookie, reply, sessionId, true)
    return sessionId
  }

  /** The ids of a user's live sessions, least recently used first. */
  sessionsOf (userId: string): Promise<string[]> {
    const { store } = this.#services
    if (store.sessionsOf === undefined) return Promise.reject(new StoreUnsupportedError())
    return storeCall(() => (store.sessionsOf as NonNullable<TokenStore['sessionsOf']>)(userId))
  }

  /** The ids of the live sessions whose refresh token ends before `time` (Unix seconds), soonest first. */
  sessionsExpiringBefore (time: number): Promise<string[]> {
    const { store } = this.#services
    if (store.sessionsExpiringBefore === undefined) return Promise.reject(new StoreUnsupportedError())
    return storeCall(() => (store.sessionsExpiringBefore as NonNullable<TokenStore['sessionsExpiringBefore']>)(time))
  }

  /** Ends every session of a user ("log out everywhere"); resolves how many it ended. */
  async endSessionsOf (userId: string): Promise<number> {
    const ended = await this.sessionsOf(userId)
    for (const sessionId of ended) await this.open(sessionId).end()
    return ended.length
  }

  /**
   * Ends a user's least recently used sessions past the limit, but never the
   * one just created. Logins of one user racing (in one process or on
   * several) each end the oldest ones beyond the limit in the list they
   * read: every cap ends a prefix of the same order, so together they end
   * no more than the limit asks. A cap that finds its own session in that
   * prefix ends one fewer rather than the next one, which another login's
   * cap may be ending already.
   */
  async #cap (userId: string, created: string): Promise<void> {
    if (this.#maxPerUser === Number.POSITIVE_INFINITY || this.#services.store.sessionsOf === undefined) return
    const live = await this.sessionsOf(userId)
    const excess = live.slice(0, Math.max(0, live.length - this.#maxPerUser)).filter((sessionId) => sessionId !== created)
    for (const sessionId of excess) await this.open(sessionId).endFor('per-user-cap')
  }

  /**
   * `fastify.spotify.authenticate`: 401 unless the request has a valid
   * session, refreshed first when needed.
   */
  authenticate (request: FastifyRequest, reply: FastifyReply, done?: HookHandlerDoneFunction): Promise<unknown> | undefined {
    const checking = this.of(request, reply).required()
    if (done === undefined) return checking
    checking.then(() => done(), done)
    return undefined
  }
}
