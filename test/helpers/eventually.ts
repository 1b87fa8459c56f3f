/** How long `eventually` keeps polling, and how often. */
export interface Patience {
  /** Longest wait in ms before the test fails. Default 10 000. */
  readonly within?: number
  /** Pause between two checks in ms. Default 10. */
  readonly every?: number
}

/**
 * Resolves `check`'s first result that is neither `false` nor `undefined`,
 * checking every `every` ms; a check that throws counts as not yet. Past
 * `within` ms it rejects naming `what` (and the last error). For what
 * happens in the background (a pub/sub message, a retry, a failover),
 * without guessing how long it takes.
 */
export async function eventually<T> (what: string, check: () => T | Promise<T>, { within = 10_000, every = 10 }: Patience = {}): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + within
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for ${what} after ${within} ms${last === undefined ? '' : ` (last error: ${(last as Error).message})`}`)
    }
    await new Promise((resolve) => setTimeout(resolve, every))
  }
}
