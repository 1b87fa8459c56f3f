/** Small statistics helpers: exact percentiles over recorded samples, medians of rounds. */

/** Nearest-rank percentile of `sorted` (ascending), `p` in 0..100. */
export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number
}

export function median (values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** A growable list of latencies in ms, sorted once when read. */
export class Samples {
  #values = new Float64Array(1 << 16)
  #length = 0

  push (value: number): void {
    if (this.#length === this.#values.length) {
      const bigger = new Float64Array(this.#values.length * 2)
      bigger.set(this.#values)
      this.#values = bigger
    }
    this.#values[this.#length++] = value
  }

  get length (): number {
    return this.#length
  }

  sorted (): Float64Array {
    return this.#values.slice(0, this.#length).sort()
  }
}

export function round (value: number, digits: number): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}
