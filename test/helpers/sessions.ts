import type { TokenStore } from '../../plugin/index.js'
import type { Built, CookieJar } from './build.js'

/** The session id in a jar's signed session cookie. */
export function sessionIdOf (jar: CookieJar): string {
  return (jar.cookies.get('spotify_session') as string).split('.')[0] as string
}

/** Makes the stored token count as expired, through the store's own compare-and-set. */
export async function expireStored (store: TokenStore, sessionId: string): Promise<void> {
  const current = await store.get(sessionId)
  if (current === undefined) throw new Error('no session to expire')
  const expired = { ...current, expiresAt: Math.floor(Date.now() / 1000) - 1, refreshes: current.refreshes + 1 }
  if (!await store.update(sessionId, current, expired)) throw new Error('expire lost a race')
}

/** `count` concurrent proxied calls spread round-robin over the instances. */
export function storm (instances: Built[], jar: CookieJar, count: number) {
  return Promise.all(Array.from({ length: count }, (_, i) =>
    (instances[i % instances.length] as Built).app.inject({ url: '/spotify/me', headers: { cookie: jar.header } })))
}
