import type { TokenSource, WebApiAnswer, WebApiCall } from './call.js'

/**
 * What makes two calls the same question to Spotify, or `undefined` when a
 * call must go on its own: a read (GET, HEAD) with no body and no signal of
 * its caller (one caller's abort must not end the others' call), from a
 * source with a partition. Same partition (one session, or the app's
 * token), same method, same target (path and query as sent), same headers:
 * a page's `Accept-Language` or `If-None-Match` is part of the question.
 * The bearer is not part of it: the partition already is.
 */
export function mergeKey (source: TokenSource, call: WebApiCall): string | undefined {
  const partition = source.partition
  if (partition === undefined || call.body !== null || call.signal !== undefined) return undefined
  if (call.method !== 'GET' && call.method !== 'HEAD') return undefined
  let key = `${partition}\n${call.method} ${call.target}`
  const names = Object.keys(call.headers).filter((name) => name !== 'authorization').sort()
  for (const name of names) key += `\n${name}: ${call.headers[name] as string}`
  return key
}

function merged (answer: WebApiAnswer): WebApiAnswer {
  return { ...answer, source: 'merged' }
}

/**
 * Identical reads in flight at the same time make one call to Spotify and
 * share its answer (or its failure): a page that mounts twice, two tabs, a
 * burst of `/me` from one session. Only while the first is in flight: a
 * call that starts after it ended goes out again (or to the cache). Keys
 * never cross partitions, so no session ever sees another's answer.
 */
export class InFlightCalls {
  readonly #calls = new Map<string, Promise<WebApiAnswer>>()

  /** `send()`'s answer, or that of the identical call already in flight (marked `merged`). */
  run (key: string, send: () => Promise<WebApiAnswer>): Promise<WebApiAnswer> {
    const pending = this.#calls.get(key)
    if (pending !== undefined) return pending.then(merged)
    const started = send()
    this.#calls.set(key, started)
    const settle = (): void => { this.#calls.delete(key) }
    started.then(settle, settle)
    return started
  }
}
