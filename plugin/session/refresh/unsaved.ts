import type { FastifyBaseLogger } from 'fastify'
import { FifoMap } from 'toad-cache'
import type { SpotifyToken } from '../../store/types.js'

/** A refreshed token the store has not taken: the write of `next` over `stale`, still to do. */
export interface UnsavedWrite {
  readonly stale: SpotifyToken
  readonly next: SpotifyToken
}

/** First delay of the background retry, doubled after each round that leaves writes behind. */
const FIRST_DELAY_MS = 250
const MAX_DELAY_MS = 2000

/**
 * Refreshed tokens the store refused to take, held in process memory until
 * a write succeeds. With rotating refresh tokens, Spotify has already
 * invalidated the stored refresh token: this copy is the only one left, so
 * it is written again on the session's next request and, meanwhile, in the
 * background. Bounded: past `limit` entries the oldest is given up (and
 * the log says so), because an unbounded map is a memory leak during a long
 * outage.
 */
export class UnsavedTokens {
  readonly #writes: FifoMap<UnsavedWrite>
  readonly #retry: (sessionId: string) => Promise<unknown>
  readonly #log: Pick<FastifyBaseLogger, 'error'>
  #timer: NodeJS.Timeout | undefined
  #delay = FIRST_DELAY_MS
  #closed = false

  /** `retry` writes one session's token again (rejecting when the store still fails). */
  constructor (limit: number, retry: (sessionId: string) => Promise<unknown>, log: Pick<FastifyBaseLogger, 'error'>) {
    this.#writes = new FifoMap(limit)
    this.#retry = retry
    this.#log = log
  }

  /** How many sessions' writes are held. */
  get size (): number {
    return this.#writes.size
  }

  /** The write held for a session, if any. */
  get (sessionId: string): UnsavedWrite | undefined {
    return this.#writes.get(sessionId)
  }

  /** Holds a write to do again; a newer one of the same session replaces it. */
  keep (sessionId: string, write: UnsavedWrite): void {
    // toad-cache updates a held session in place: taken out first, a newer
    // write queues as the newest. Past the limit the set below gives the
    // oldest up without a word, so the log line is decided before it.
    const givesUp = this.#writes.get(sessionId) === undefined && this.#writes.size >= this.#writes.max
    this.#writes.delete(sessionId)
    this.#writes.set(sessionId, write)
    if (givesUp) this.#log.error('fastify-spotify-auth: a refreshed token the store never took was given up (too many held): its session must log in again')
    this.#schedule()
  }

  /** Forgets a session's write once the store holds it, or holds something newer. */
  drop (sessionId: string, write: UnsavedWrite): void {
    if (this.#writes.get(sessionId) === write) this.#writes.delete(sessionId)
  }

  /** Tries every held write once (at close: the last chance); resolves how many are still held. */
  async retryAll (): Promise<number> {
    for (const sessionId of [...this.#writes.keys()] as string[]) {
      await this.#retry(sessionId).catch(() => {})
    }
    return this.#writes.size
  }

  /** Stops the background retry for good (the writes stay held, for `retryAll`). */
  close (): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #schedule (): void {
    if (this.#timer !== undefined || this.#closed) return
    // unref: a pending retry never keeps the process alive.
    this.#timer = setTimeout(() => { this.#round().catch(() => {}) }, this.#delay * (1 + Math.random() / 2)).unref()
  }

  async #round (): Promise<void> {
    const before = this.#writes.size
    const left = await this.retryAll()
    this.#timer = undefined
    // Back off while the store stays down; start fast again after progress.
    this.#delay = left < before ? FIRST_DELAY_MS : Math.min(this.#delay * 2, MAX_DELAY_MS)
    if (left > 0) this.#schedule()
  }
}
