import type { Built } from './build.js'
import { CookieJar } from './build.js'

/**
 * Runs a login through the emulator's consent step by hand, adding to
 * `secrets` everything secret that crosses it: `state`, the PKCE challenge,
 * the flow cookies, the code, the session cookie and the session id.
 */
export async function watchedLogin (built: Pick<Built, 'emulator' | 'request'>, secrets: Set<string>, url = '/login'): Promise<{ jar: CookieJar, status: number, callback: string }> {
  const { emulator, request } = built
  const jar = new CookieJar()
  const start = await request(jar, { url })
  const authorize = new URL(start.headers.location as string)
  secrets.add(authorize.searchParams.get('state') as string)
  secrets.add(authorize.searchParams.get('code_challenge') as string)
  for (const [name, value] of jar.cookies) if (name !== 'spotify_auth_return') secrets.add(value)
  const back = new URL(emulator.control.authorize(authorize.searchParams))
  secrets.add(back.searchParams.get('code') as string)
  const callback = await request(jar, { url: back.pathname + back.search })
  for (const value of jar.cookies.values()) {
    secrets.add(value)
    secrets.add(value.split('.')[0] as string) // the session id alone
  }
  return { jar, status: callback.statusCode, callback: back.pathname + back.search }
}

/** `count` calls of a route that shows the token, adding each access and refresh token to `secrets`. */
export async function watchedTokens (built: Pick<Built, 'request'>, jar: CookieJar, secrets: Set<string>, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const token = (await built.request(jar, { url: '/token' })).json()
    secrets.add(token.accessToken)
    secrets.add(token.refreshToken)
  }
}
