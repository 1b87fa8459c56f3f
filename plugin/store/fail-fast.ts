/**
 * A short fail-fast window after a connection failure. ioredis Cluster keeps
 * `status === 'ready'` while a master is failing over, and each command then
 * waits out redirections, retries or the command timeout: every request
 * would hang that long. Once one command has failed that way, the following
 * ones fail at once (the request gets its 503 immediately) until the window
 * ends; then commands go through again. A new failure opens a new window, so
 * the store recovers by itself at most `ms` after Redis does. `ms` 0: never.
 */
export interface FailFast {
  /** Why calls are refused now, or undefined when they may go through. */
  refusal (): string | undefined
  /** Records a connection failure: opens (or extends) the window. */
  failed (reason: string): void
}

export function failFast (ms: number): FailFast {
  let until = 0
  let reason = ''
  return {
    refusal () {
      if (until === 0) return undefined
      if (Date.now() >= until) {
        until = 0
        return undefined
      }
      return reason
    },
    failed (why) {
      if (ms === 0) return
      until = Date.now() + ms
      reason = why
    }
  }
}
