import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * What Spotify's `GET /v1/me` answers, padded to about 600 bytes: a fixed body,
 * so that the benchmark measures the proxies, not the upstream.
 */
export const ME_BODY = Buffer.from(JSON.stringify({
  country: 'SE',
  display_name: 'Alice Example',
  email: 'alice@example.com',
  explicit_content: { filter_enabled: false, filter_locked: false },
  external_urls: { spotify: 'https://open.spotify.com/user/alice' },
  followers: { href: null, total: 42 },
  href: 'https://api.spotify.com/v1/users/alice',
  id: 'alice',
  images: [
    { url: 'https://i.scdn.co/image/ab67757000003b8255c25988a6ac314394d3fbf5', height: 300, width: 300 },
    { url: 'https://i.scdn.co/image/ab6775700000ee8555c25988a6ac314394d3fbf5', height: 64, width: 64 }
  ],
  product: 'premium',
  type: 'user',
  uri: 'spotify:user:alice',
  policies: { opt_in: false, region: 'eu-north-1', cohort: 'bench-fixed-body' }
}))

const RESPONSE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'content-length': String(ME_BODY.length),
  'cache-control': 'private, max-age=0'
}

export interface StaticUpstream {
  readonly url: string
  readonly server: Server
  /**
   * When on, counts the `authorization` header of every request: the storm
   * uses it to check that every forwarded call carried the refreshed token.
   * Turning it on clears the previous tally.
   */
  record (on: boolean): void
  readonly authorizations: Map<string, number>
  close (): Promise<void>
}

/** A plain `node:http` server on 127.0.0.1 answering every request with {@link ME_BODY}. */
export async function startStaticUpstream (): Promise<StaticUpstream> {
  const authorizations = new Map<string, number>()
  let recording = false
  const server = createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
    if (recording) {
      const key = request.headers.authorization ?? '(none)'
      authorizations.set(key, (authorizations.get(key) ?? 0) + 1)
    }
    // A request body (none in the benchmark) is drained, not read.
    request.resume()
    response.writeHead(200, RESPONSE_HEADERS)
    response.end(ME_BODY)
  })
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 2048 }, resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    record (on) {
      // Starting clears the tally; stopping keeps it for reading.
      if (on) authorizations.clear()
      recording = on
    },
    authorizations,
    close () {
      server.closeAllConnections()
      return new Promise((resolve, reject) => server.close((err) => { if (err === undefined) resolve(); else reject(err) }))
    }
  }
}
