import { setTimeout as sleep } from 'node:timers/promises'
import { storeCall } from '../../failures.js'
import type { TokenStore } from '../../store/types.js'

/** Poll interval of a process waiting for another one's refresh (plus up to as much jitter). */
const POLL_MS = 25
/**
 * The same, when the store announces changes (`watch`): polling is then only
 * the safety net for a lost message, and a holder that died.
 */
const WATCHED_POLL_MS = 250

/**
 * What a process waiting for a sibling's refresh of one session waits for,
 * turn after turn: the store's news of the session (`watch`), or a poll
 * interval. The watch is armed before the first turn and again as soon as
 * news came, so that news between two turns is not missed; a store that
 * cannot watch leaves the waiter polling.
 */
export class SiblingWatch {
  readonly #store: TokenStore
  readonly #sessionId: string
  readonly #stop = new AbortController()
  #news: Promise<'news' | 'failed'> | undefined

  constructor (store: TokenStore, sessionId: string) {
    this.#store = store
    this.#sessionId = sessionId
    if (store.watch !== undefined) this.#arm()
  }

  /** Resolves at the next news of the session, or after a poll interval. */
  async nextTurn (): Promise<void> {
    const news = this.#news
    if (news === undefined) return await sleep(POLL_MS + Math.random() * POLL_MS)
    let timer: NodeJS.Timeout | undefined
    const polled = new Promise<'polled'>((resolve) => { timer = setTimeout(resolve, WATCHED_POLL_MS + Math.random() * WATCHED_POLL_MS, 'polled') })
    const outcome = await Promise.race([news, polled])
    clearTimeout(timer)
    if (outcome === 'news') this.#arm()
    else if (outcome === 'failed') this.#news = undefined
  }

  /** Ends the watch (the waiter is done). */
  stop (): void {
    this.#stop.abort()
  }

  #arm (): void {
    this.#news = storeCall(() => (this.#store.watch as NonNullable<TokenStore['watch']>)(this.#sessionId, this.#stop.signal))
      .then(() => 'news' as const, () => 'failed' as const)
  }
}
