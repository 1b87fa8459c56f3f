/** Plain http is accepted on these hosts only, as Spotify does. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]'])

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
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return 'must use https, or plain http only on 127.0.0.1 or [::1] as Spotify requires'
  }
  if (url.search !== '' || url.hash !== '') return 'must not have a query or a fragment'
  return undefined
}
