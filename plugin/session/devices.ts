import { createHmac } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { DeviceNotFoundError } from '../errors.js'
import { storeCall } from '../failures.js'
import type { SpotifyToken, TokenStore } from '../store/types.js'
import type { Sessions } from './sessions.js'

/** One of a user's sessions, as the session routes show it: never its id. */
export interface SpotifyDevice {
  /**
   * A public handle of the session, to end it with: an HMAC of the session
   * id under the plugin's `secret`, so it names the session without being
   * the credential (a handle cannot be turned back into a cookie). It
   * changes when the first secret does.
   */
  readonly id: string
  /** When the user logged in on it: Unix seconds. */
  readonly createdAt: number
  /**
   * When it last got a token (its login or its last refresh): Unix
   * seconds. A session in use refreshes at least hourly, so this is its
   * last use to within an hour, at no write per request.
   */
  readonly lastUsedAt: number
  /** The browser of the login, as a family such as "Chrome on macOS". */
  readonly userAgent: string
  /** Whether it is the session of the request that asked. */
  readonly current: boolean
}

interface Listed {
  readonly sessionId: string
  readonly handle: string
  readonly token: SpotifyToken
}

/**
 * The current user's sessions, seen and ended from one of them: what the
 * session routes serve. Everything is scoped by the asking session's own
 * user, read from the store: a handle of another user's session is not
 * found (404, the same as one made up), and ends nothing.
 */
export class Devices {
  readonly #sessions: Sessions
  readonly #store: TokenStore
  readonly #key: string

  /** `secret`: the plugin's first secret, the handles' key. */
  constructor (sessions: Sessions, store: TokenStore, secret: string) {
    this.#sessions = sessions
    this.#store = store
    this.#key = secret
  }

  /** A session's public handle: 128 bits of an HMAC, base64url (22 characters). */
  handle (sessionId: string): string {
    return createHmac('sha256', this.#key).update(`fastify-spotify-auth device\0${sessionId}`).digest('base64url').slice(0, 22)
  }

  /** The current user's sessions, most recently used first; 401 without a session. */
  async list (request: FastifyRequest, reply: FastifyReply): Promise<SpotifyDevice[]> {
    const { current, listed } = await this.#ofCurrentUser(request, reply)
    return listed.map(({ sessionId, handle, token }) => ({
      id: handle,
      createdAt: token.authorizedAt,
      lastUsedAt: token.obtainedAt,
      userAgent: token.userAgent ?? 'Unknown browser',
      current: sessionId === current
    })).sort((a, b) => Number(b.current) - Number(a.current) || b.lastUsedAt - a.lastUsedAt)
  }

  /** Ends the current user's session whose handle is `handle` (the current one too: then its cookie is cleared). */
  async end (request: FastifyRequest, reply: FastifyReply, handle: string): Promise<void> {
    const { current, listed } = await this.#ofCurrentUser(request, reply)
    const found = listed.find((entry) => entry.handle === handle)
    if (found === undefined) throw new DeviceNotFoundError()
    await (found.sessionId === current ? this.#sessions.of(request, reply).end() : this.#sessions.open(found.sessionId).end())
  }

  /** Ends every session of the current user but this one; resolves how many. */
  async endOthers (request: FastifyRequest, reply: FastifyReply): Promise<number> {
    const { current, listed } = await this.#ofCurrentUser(request, reply)
    const others = listed.filter((entry) => entry.sessionId !== current)
    for (const { sessionId } of others) await this.#sessions.open(sessionId).end()
    return others.length
  }

  /** The asking session's id, and its user's live sessions with their records. */
  async #ofCurrentUser (request: FastifyRequest, reply: FastifyReply): Promise<{ current: string, listed: Listed[] }> {
    const session = this.#sessions.of(request, reply)
    const token = await session.stored()
    const current = session.sessionId as string
    const ids = await this.#sessions.sessionsOf(token.userId)
    const records = await Promise.all(ids.map((sessionId) => sessionId === current
      ? token
      : storeCall(() => this.#store.get(sessionId))))
    const listed: Listed[] = []
    ids.forEach((sessionId, i) => {
      const record = records[i]
      // Gone meanwhile, or (a store's bug) filed under the wrong user: not theirs.
      if (record !== undefined && record.userId === token.userId) listed.push({ sessionId, handle: this.handle(sessionId), token: record })
    })
    return { current, listed }
  }
}
