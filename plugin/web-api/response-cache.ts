import { LruMap } from 'toad-cache'
import type { WebApiAnswer, WebApiCall } from './call.js'
import { freshnessOf, mayServeStale } from './cache-rules.js'
import { pathOf, staleAfterWrite } from './invalidation.js'

/** The bounds of the policy's response cache, and its standing staleness: the `cache` option. */
export interface ResponseCacheLimits {
  /** Most answers kept, over every session. */
  readonly maxEntries: number
  /** Most bytes kept (bodies and headers), over every session. */
  readonly maxBytes: number
  /**
   * Seconds past its freshness an answer is still served when the caller's
   * request gives no `max-stale` of its own; 0 (the default here) for none.
   */
  readonly maxStale?: number
}

/** One stored answer. */
export interface CacheEntry {
  readonly partition: string
  /** The target's path, without its query: what writes are matched against. */
  readonly path: string
  readonly status: number
  headers: Readonly<Record<string, string | string[]>>
  readonly body: Buffer
  readonly etag: string | undefined
  /** When it was stored or last confirmed by a 304, in ms. */
  storedAt: number
  /** Until when it is served without asking Spotify, in ms. */
  freshUntil: number
  /** Whether it may be served past `freshUntil` to a caller that allows it (`mayServeStale`). */
  staleAllowed: boolean
  readonly size: number
}

/** Request headers that say nothing about which answer it is: left out of the key. */
const NOT_IN_KEY = new Set(['authorization', 'if-none-match', 'if-modified-since', 'cache-control', 'pragma'])

function sizeOf (headers: Readonly<Record<string, string | string[]>>, body: Buffer, key: string): number {
  let size = body.length + key.length + 64
  for (const name in headers) size += name.length + String(headers[name]).length
  return size
}

/**
 * The call policy's private response cache: answers to GETs, per partition
 * (a session's, or the app's), least recently used first out, bounded in
 * entries and bytes. It holds only what the rules allow (`cache-rules.ts`)
 * and forgets what a partition's own write makes stale (`invalidation.ts`).
 * toad-cache bounds the entries; the bytes are counted here, so entries
 * beyond either bound leave through `#evictOldest` and never silently.
 */
export class ResponseCache {
  readonly #entries: LruMap<CacheEntry>
  readonly #limits: ResponseCacheLimits
  #bytes = 0

  constructor (limits: ResponseCacheLimits) {
    this.#limits = limits
    // One more slot than the bound: #store evicts first, toad-cache never does.
    this.#entries = new LruMap(limits.maxEntries + 1)
  }

  /** The key of a GET in `partition`, or `undefined` for a call the cache never answers (not a GET, a range). */
  keyOf (partition: string | undefined, call: WebApiCall): string | undefined {
    if (partition === undefined || call.method !== 'GET' || call.body !== null || call.headers.range !== undefined) return undefined
    let key = `${partition}\n${call.target}`
    const names = Object.keys(call.headers).filter((name) => !NOT_IN_KEY.has(name)).sort()
    for (const name of names) key += `\n${name}: ${call.headers[name] as string}`
    return key
  }

  /** The entry under `key`, now the most recently used. */
  get (key: string): CacheEntry | undefined {
    return this.#entries.get(key)
  }

  /**
   * The entry under `key` if it may answer without asking Spotify at `now`:
   * fresh, or stale for less than `maxStale` seconds (the caller's own
   * `max-stale`, else the `cache.maxStale` option) and not marked
   * `no-cache` or `must-revalidate` by its answer (RFC 9111 §4.2.4).
   */
  usable (key: string, maxStale: number | undefined, now: number): CacheEntry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined || entry.freshUntil > now) return entry
    const allowance = (maxStale ?? this.#limits.maxStale ?? 0) * 1000
    // Strictly less: max-stale=0 (or the option's 0) serves nothing stale.
    return entry.staleAllowed && now - entry.freshUntil < allowance ? entry : undefined
  }

  /** Keeps `answer` under `key` if the rules allow; a 200 they refuse drops what was there. */
  store (key: string, partition: string, target: string, answer: WebApiAnswer, now: number): void {
    const fresh = answer.status === 200 ? freshnessOf(answer.headers, now) : undefined
    if (fresh === undefined) {
      this.#delete(key)
      return
    }
    const size = sizeOf(answer.headers, answer.body, key)
    if (size > this.#limits.maxBytes) {
      this.#delete(key)
      return
    }
    const etag = answer.headers.etag
    const entry: CacheEntry = {
      partition,
      path: pathOf(target),
      status: answer.status,
      headers: answer.headers,
      body: answer.body,
      etag: Array.isArray(etag) ? etag[0] : etag,
      storedAt: now,
      freshUntil: now + fresh,
      staleAllowed: mayServeStale(answer.headers),
      size
    }
    this.#delete(key)
    while (this.#entries.size >= this.#limits.maxEntries || this.#bytes + size > this.#limits.maxBytes) this.#evictOldest()
    this.#entries.set(key, entry)
    this.#bytes += size
  }

  /** After Spotify's 304 to our `If-None-Match`: the entry is good again, with the 304's freshness. */
  confirm (entry: CacheEntry, notModified: WebApiAnswer, now: number): void {
    const headers = { ...entry.headers }
    // RFC 9111 §4.3.4: the 304's headers replace the stored ones (not its length).
    for (const name in notModified.headers) if (name !== 'content-length') headers[name] = notModified.headers[name] as string | string[]
    entry.headers = headers
    entry.storedAt = now
    entry.freshUntil = now + (freshnessOf(headers, now) ?? 0)
    entry.staleAllowed = mayServeStale(headers)
  }

  /** After a successful write of `partition` to `target`: its stale reads go (`invalidation.ts`). */
  invalidate (partition: string, target: string): void {
    const stale = staleAfterWrite(pathOf(target))
    for (const [key, item] of [...this.#entries.items]) {
      if (item.value.partition === partition && stale(item.value.path)) this.#delete(key)
    }
  }

  /** Entries and bytes held now: for tests, the bench and counters. */
  get usage (): { entries: number, bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes }
  }

  #delete (key: string): void {
    const entry = this.#entries.items.get(key)
    if (entry === undefined) return
    this.#bytes -= entry.value.size
    this.#entries.delete(key)
  }

  #evictOldest (): void {
    this.#delete((this.#entries.first as { key: string }).key)
  }
}
