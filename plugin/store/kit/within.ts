/**
 * `operation`'s answer, or a rejection after `ms` naming `what`: a hung
 * database, a paused Redis or a drained pool must not hold a request.
 */
export function within<T> (what: string, ms: number, operation: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
    timer.unref()
    operation().then(resolve, reject).finally(() => clearTimeout(timer))
  })
}
