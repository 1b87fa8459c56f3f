/**
 * At most one run per key at a time within this process: a caller that
 * comes while one runs shares its outcome instead of starting another.
 */
export class SingleFlight<T> {
  readonly #running = new Map<string, Promise<T>>()

  /** Whether a run of `key` is under way (a caller of `run` now would join it). */
  has (key: string): boolean {
    return this.#running.has(key)
  }

  /** The running promise of `key`, or `start()`'s, kept until it settles. */
  run (key: string, start: () => Promise<T>): Promise<T> {
    let running = this.#running.get(key)
    if (running === undefined) {
      running = start().finally(() => this.#running.delete(key))
      this.#running.set(key, running)
    }
    return running
  }
}
