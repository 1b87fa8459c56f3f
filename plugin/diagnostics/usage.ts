import { answerSource, type RateLimitReason, type WebApiSource } from './channels.js'
import { routeTemplate } from './route-template.js'

/** What one plugin instance asked of Spotify over a period. */
export interface SpotifyUsagePeriod {
  /**
   * Web API calls by route template (`/v1/playlists/{id}/items`), then by
   * where the answer came from: `network` counts every request that went to
   * Spotify (a call resent after a 401 counts twice), `cache` and `merged`
   * the calls answered without one.
   */
  readonly calls: Readonly<Record<string, Readonly<Partial<Record<WebApiSource, number>>>>>
  /** Requests that went to Spotify's Web API, all routes together. */
  readonly networkCalls: number
  /** Web API answers 429, by reason: `rate` (the short rate limit) or `quota` (the app's quota). */
  readonly rateLimited: Readonly<Record<RateLimitReason, number>>
  /** Refresh token calls to Spotify's accounts service (merged refreshes make none). */
  readonly refreshes: number
}

/** `fastify.spotify.usage()`: this instance's calls to Spotify over the last hour and the last day. */
export interface SpotifyUsage {
  /** The last 60 minutes, the current one included. */
  readonly hour: SpotifyUsagePeriod
  /** The last 24 hours (1440 minutes), the current minute included. */
  readonly day: SpotifyUsagePeriod
  /** When the snapshot was taken: Unix ms. */
  readonly at: number
}

const MINUTE_MS = 60_000
const DAY_MINUTES = 24 * 60

/** One minute's counts. */
interface Bucket {
  minute: number
  /** By `route` then source: at most one entry per template of Spotify's API and source. */
  readonly calls: Map<string, Map<WebApiSource, number>>
  rate: number
  quota: number
  refreshes: number
}

/**
 * The counts behind `usage()`, kept in memory per plugin instance: one
 * bucket per minute over the last day, in a ring of 1440, each keyed by
 * route template (a bounded set), so that memory stays bounded whatever
 * the traffic. A small app without an OpenTelemetry stack can show its
 * quota spending from it; across instances, add the figures up.
 */
export class UsageCounter {
  readonly #ring: Array<Bucket | undefined> = new Array<Bucket | undefined>(DAY_MINUTES)
  readonly #now: () => number

  /** `now`: the clock (Unix ms); tests pass their own. */
  constructor (now: () => number = Date.now) {
    this.#now = now
  }

  /** A request to `target` (a Web API request target) went to Spotify, or was answered from `source`. */
  call (target: string, source: WebApiSource): void {
    const bucket = this.#current()
    const route = routeTemplate(target)
    let sources = bucket.calls.get(route)
    if (sources === undefined) bucket.calls.set(route, sources = new Map())
    sources.set(source, (sources.get(source) ?? 0) + 1)
  }

  /** `answer` came back for `target`: counted here when it came from elsewhere than the network (which `call` counted as it went). */
  answered (target: string, answer: object): void {
    const source = answerSource(answer)
    if (source !== 'network') this.call(target, source)
  }

  /** The Web API answered 429 for `reason`. */
  limited (reason: RateLimitReason): void {
    this.#current()[reason]++
  }

  /** A refresh token call went to Spotify. */
  refreshed (): void {
    this.#current().refreshes++
  }

  /** The last hour's and day's figures. */
  snapshot (): SpotifyUsage {
    const at = this.#now()
    const minute = Math.floor(at / MINUTE_MS)
    return { hour: this.#sum(minute, 60), day: this.#sum(minute, DAY_MINUTES), at }
  }

  /** The bucket of the current minute, reused from a day ago when its slot comes round. */
  #current (): Bucket {
    const minute = Math.floor(this.#now() / MINUTE_MS)
    const slot = minute % DAY_MINUTES
    let bucket = this.#ring[slot]
    if (bucket === undefined || bucket.minute !== minute) {
      bucket = { minute, calls: new Map(), rate: 0, quota: 0, refreshes: 0 }
      this.#ring[slot] = bucket
    }
    return bucket
  }

  /** The sum of the `minutes` buckets up to `minute`. */
  #sum (minute: number, minutes: number): SpotifyUsagePeriod {
    const calls: Record<string, Partial<Record<WebApiSource, number>>> = {}
    const rateLimited = { rate: 0, quota: 0 }
    let networkCalls = 0
    let refreshes = 0
    for (const bucket of this.#ring) {
      if (bucket === undefined || bucket.minute <= minute - minutes || bucket.minute > minute) continue
      for (const [route, sources] of bucket.calls) {
        const into = calls[route] ??= {}
        for (const [source, count] of sources) {
          into[source] = (into[source] ?? 0) + count
          if (source === 'network') networkCalls += count
        }
      }
      rateLimited.rate += bucket.rate
      rateLimited.quota += bucket.quota
      refreshes += bucket.refreshes
    }
    return { calls, networkCalls, rateLimited, refreshes }
  }
}
