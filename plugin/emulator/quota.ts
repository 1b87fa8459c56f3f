/**
 * Spotify's 2026 quota, per client id: at most `limit` calls over a rolling
 * window (about a day on Spotify). Past it, every call answers 429 with
 * `reason: QUOTA_EXCEEDED` and a `Retry-After` that lasts until the oldest
 * counted call leaves the window. Refused calls are not counted.
 */
import type { FastifyReply } from 'fastify'

export interface Quota {
  limit: number
  windowMs: number
  /** Per client id, the times of its counted calls, oldest first. */
  readonly calls: Map<string, number[]>
}

/** Large enough for the demo and every test that does not ask for less. */
export const DEFAULT_QUOTA = { limit: 100_000, windowMs: 24 * 60 * 60 * 1000 }

export function createQuota (): Quota {
  return { ...DEFAULT_QUOTA, calls: new Map() }
}

/**
 * Counts a call of `clientId` at `now`, or (the quota spent) answers the
 * 429 Spotify sends then and counts nothing.
 */
export function spendQuota (quota: Quota, clientId: string, now: number, reply: FastifyReply): FastifyReply | undefined {
  let calls = quota.calls.get(clientId)
  if (calls === undefined) {
    calls = []
    quota.calls.set(clientId, calls)
  }
  const since = now - quota.windowMs
  let gone = 0
  while (gone < calls.length && (calls[gone] as number) <= since) gone++
  if (gone > 0) calls.splice(0, gone)
  if (calls.length < quota.limit) {
    calls.push(now)
    return undefined
  }
  const seconds = Math.max(1, Math.ceil(((calls[0] as number) + quota.windowMs - now) / 1000))
  return reply.code(429).header('retry-after', String(seconds))
    .send({ error: { status: 429, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' } })
}
