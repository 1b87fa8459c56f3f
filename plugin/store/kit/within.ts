/**
 * `operation`'s answer, or a rejection after `ms` naming `what`: a hung
 * database, a paused Redis or a drained pool must not hold a request.
 *
 * The rejection waits for the event loop's next poll for I/O: when this
 * process itself stalled (a long task, a machine busy with other work), the
 * deadline and the answer fall due together, and Node runs timers before
 * it reads sockets, which would fail an operation whose answer is already
 * waiting to be read. A promise settles once: the answer, read first, wins.
 */
export function within<T> (what: string, ms: number, operation: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // The immediate stays referenced: an unreferenced one lets the poll
    // block until other work wakes the loop, which may be seconds away.
    const timer = setTimeout(() => {
      setImmediate(() => { reject(new Error(`${what} did not answer within ${ms} ms`)) })
    }, ms)
    timer.unref()
    operation().then(resolve, reject).finally(() => clearTimeout(timer))
  })
}
