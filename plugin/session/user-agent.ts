/*
 * A device list shows "Chrome on macOS", not a User-Agent header: the raw
 * header is long, often unique enough to fingerprint a user, and nothing a
 * person recognises. Only the family is kept, from a short ordered list;
 * anything else is "Unknown browser" / "unknown system". Order matters:
 * Edge and Opera also say Chrome, Chrome also says Safari, Android also
 * says Linux, iOS also says Mac OS X.
 */

const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bChrom(?:e|ium)\/|\bCriOS\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/\bcurl\//, 'curl']
]

const SYSTEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\biPhone|\biPad|\biPod/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux']
]

function first (list: ReadonlyArray<readonly [RegExp, string]>, header: string): string | undefined {
  return list.find(([pattern]) => pattern.test(header))?.[1]
}

/** `header`'s browser and system family, such as "Chrome on macOS"; "Unknown browser" without a header. */
export function userAgentFamily (header: string | undefined): string {
  // Bounded: a header of kilobytes must not cost the regular expressions.
  const value = (header ?? '').slice(0, 512)
  const browser = first(BROWSERS, value) ?? 'Unknown browser'
  const system = first(SYSTEMS, value)
  return system === undefined ? browser : `${browser} on ${system}`
}
