/*
 * How long Spotify's `Retry-After` may hold the app's calls: read where a
 * 429 arrives (the call policy's window) and where a window is learnt from
 * another instance (a store's events), so that neither can be stretched
 * further than the other.
 */

/**
 * The longest window one `Retry-After` may open. Spotify has sent an hour;
 * a garbled header (or a date far ahead) must not stop the app for days.
 */
export const MAX_WINDOW_MS = 24 * 60 * 60 * 1000

/**
 * How long a `Retry-After` asks to wait, in ms: delay-seconds (what Spotify
 * sends) or an HTTP date, at most `MAX_WINDOW_MS`; `undefined` when absent
 * or unreadable.
 */
export function retryAfterMs (value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value
  if (raw === undefined) return undefined
  const text = raw.trim()
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_WINDOW_MS) : undefined
}
