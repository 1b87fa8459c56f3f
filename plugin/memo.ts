import { LruMap } from 'toad-cache'

/**
 * `parse` remembered for the last `max` distinct strings it was given. For
 * the header values a proxied call parses on its way (`Cache-Control`,
 * `Vary`, the path's route template): a handful of distinct values come
 * back on every request, and parsing one (split, trim, lower-case) costs
 * more than finding it. A result is shared by every caller: callers must
 * not change it.
 */
export function memoized<T> (parse: (value: string) => T, max = 256): (value: string) => T {
  const seen = new LruMap<T>(max)
  return (value) => {
    let found = seen.get(value)
    if (found === undefined) {
      found = parse(value)
      seen.set(value, found)
    }
    return found
  }
}
