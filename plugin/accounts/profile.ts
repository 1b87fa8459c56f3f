import { HTTPError, type Got } from 'got'
import { UpstreamError } from '../errors.js'
import type { TokenSource } from '../web-api/call.js'

/** The part of `GET /v1/me` every app gets, whatever its scopes and quota mode. */
export interface SpotifyUser {
  /** The Spotify user id. */
  readonly id: string
  /** The name the user shows on Spotify; `null` or absent when they set none. */
  readonly display_name?: string | null
  /**
   * The user's account id (`account_id`): public, immutable and pseudonymous.
   * Spotify advises it, not `id`, for linking accounts. Absent when Spotify
   * sent none.
   */
  readonly accountId?: string
  readonly [field: string]: unknown
}

function parsed (body: string): Partial<SpotifyUser> | undefined {
  try {
    const value: unknown = JSON.parse(body)
    return typeof value === 'object' && value !== null ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * `GET /v1/me` with a token just obtained, to learn whose it is, through
 * the got client `clientOf` makes for that token (retries included; a 401
 * is not renewed: the token is all there is). Any failure fails the login:
 * 502 (Spotify answered with an error, with no JSON, or with no user), 504
 * (no answer in time).
 */
export function profileReader (clientOf: (source: TokenSource) => Got): (accessToken: string) => Promise<SpotifyUser> {
  return async (accessToken) => {
    const token = { accessToken }
    const client = clientOf({ required: async () => token, renewed: async () => token })
    let body: string
    try {
      body = (await client.get('me')).body
    } catch (err) {
      // Development Mode answers 403 to a user not on the app's allow-list.
      if (err instanceof HTTPError) throw new UpstreamError(`GET /v1/me answered ${err.response.statusCode}`)
      throw err
    }
    // A maintenance page answered 200 is Spotify's failure, not ours.
    const user = parsed(body)
    if (user === undefined) throw new UpstreamError('GET /v1/me answered no JSON object')
    if (typeof user.id !== 'string' || user.id === '') throw new UpstreamError('GET /v1/me named no user')
    // Spotify's new key, under the name the plugin's types use.
    const accountId = typeof user.account_id === 'string' && user.account_id !== '' ? user.account_id : undefined
    return (accountId === undefined ? user : { ...user, accountId }) as SpotifyUser
  }
}
