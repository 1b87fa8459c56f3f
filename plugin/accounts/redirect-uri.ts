/**
 * The loopback IP literals on which Spotify accepts a plain-http redirect
 * URI (its redirect URI rules since 2025: `http://127.0.0.1:PORT` or
 * `http://[::1]:PORT`; `localhost` is refused, since any process may claim
 * that name). One rule for the plugin's option and for the emulator.
 */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]'])

/** Whether `hostname` (as `URL` writes it) is a loopback literal Spotify accepts over plain http. */
export function isLoopbackLiteral (hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname)
}

/**
 * What is wrong with a redirect URI by Spotify's rules, as the end of a
 * sentence ("must use https, …"), or `undefined` when it is fine. One rule
 * for the plugin's option and for anything that checks a URI before it
 * reaches the plugin (the demo's settings).
 */
export function redirectUriProblem (raw: string): string | undefined {
  const url = URL.canParse(raw) ? new URL(raw) : undefined
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) return 'must be an absolute http(s) URL'
  if (url.hostname === 'localhost') return 'must not use localhost, which Spotify refuses (use 127.0.0.1)'
  if (url.protocol === 'http:' && !isLoopbackLiteral(url.hostname)) {
    return 'must use https, or plain http only on 127.0.0.1 or [::1] as Spotify requires'
  }
  if (url.search !== '' || url.hash !== '') return 'must not have a query or a fragment'
  return undefined
}
