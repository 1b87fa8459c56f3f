import type { RateLimitReason } from '../store/types.js'
import type { WebApiAnswer } from './call.js'

/** Larger than any error body of the Web API: a 429 this long is not its quota's. */
const MAX_ERROR_BODY = 4096

/**
 * Why Spotify answered 429: `'quota'` when its body says
 * `{"error":{"reason":"QUOTA_EXCEEDED"}}` (the app's quota over its rolling
 * day is spent, and `Retry-After` is hours), otherwise `undefined` (the
 * short rate limit, whose body carries no reason). A body that is not JSON
 * is a plain 429.
 */
export function reasonOf429 (answer: WebApiAnswer): RateLimitReason | undefined {
  if (answer.body.length > MAX_ERROR_BODY) return undefined
  try {
    const parsed = JSON.parse(answer.body.toString('utf8')) as { error?: { reason?: unknown } } | null
    return parsed?.error?.reason === 'QUOTA_EXCEEDED' ? 'quota' : undefined
  } catch {
    return undefined
  }
}
