/**
 * Spotify's redirect URI rules since 2025: https, or plain http only on a
 * loopback IP literal (the plugin's own rule: `127.0.0.1` or `[::1]`), never
 * `localhost`; and a loopback URI registered without a port matches any
 * port, because native apps listen on whatever port is free.
 */
import { isLoopbackLiteral } from '../accounts/redirect-uri.js'

function parse (uri: string): URL | undefined {
  try {
    return new URL(uri)
  } catch {
    return undefined
  }
}

/** Whether `/authorize` refuses this redirect URI as insecure, registered or not. */
export function isInsecureRedirectUri (uri: string): boolean {
  const url = parse(uri)
  if (url === undefined) return false
  if (url.hostname === 'localhost') return true
  return url.protocol === 'http:' && !isLoopbackLiteral(url.hostname)
}

/** Whether a requested redirect URI matches one registered for the client. */
export function matchesRedirectUri (registered: string, requested: string): boolean {
  if (registered === requested) return true
  const got = parse(requested)
  if (got === undefined) return false
  // Registered URIs were checked to be absolute URLs when the client was added.
  const want = new URL(registered)
  return want.protocol === 'http:' && isLoopbackLiteral(want.hostname) && want.port === '' &&
    got.protocol === want.protocol && got.hostname === want.hostname &&
    got.pathname === want.pathname && got.search === want.search && got.hash === ''
}
