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

/**
 * What Spotify's `GET /v1/me/playlists?limit=20` answers: a paging object of
 * 20 simplified playlists (about 17 KB) with 63 links under `{base}/v1/`
 * (`href`, `next`, `previous`, and each playlist's, owner's and items'
 * `href`), the case the proxy's link rewriting pays for.
 */
export function pagedBody (base: string): Buffer {
  const items = Array.from({ length: 20 }, (_, i) => {
    const id = `37i9dQZF1DX${String(i).padStart(11, '0')}`
    return {
      collaborative: false,
      description: `Playlist number ${i}, padded like a real description of a real playlist.`,
      external_urls: { spotify: `https://open.spotify.com/playlist/${id}` },
      href: `${base}/v1/playlists/${id}`,
      id,
      images: [{ url: `https://i.scdn.co/image/ab67706f00000002${id}`, height: 640, width: 640 }],
      name: `Playlist ${i}`,
      owner: { display_name: 'Alice Example', external_urls: { spotify: 'https://open.spotify.com/user/alice' }, href: `${base}/v1/users/alice`, id: 'alice', type: 'user', uri: 'spotify:user:alice' },
      public: true,
      snapshot_id: 'AAAAB2ZzZGZzZGZzZGZzZGZzZGZzZGZzZGZz',
      items: { href: `${base}/v1/playlists/${id}/items`, total: 40 + i },
      type: 'playlist',
      uri: `spotify:playlist:${id}`
    }
  })
  return Buffer.from(JSON.stringify({
    href: `${base}/v1/me/playlists?offset=20&limit=20`,
    items,
    limit: 20,
    next: `${base}/v1/me/playlists?offset=40&limit=20`,
    offset: 20,
    previous: `${base}/v1/me/playlists?offset=0&limit=20`,
    total: 75
  }))
}

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

/** A plain `node:http` server on 127.0.0.1 answering `/v1/me/playlists…` with {@link pagedBody}, every other request with {@link ME_BODY}. */
export async function startStaticUpstream (): Promise<StaticUpstream> {
  const authorizations = new Map<string, number>()
  let recording = false
  let paged: Buffer = Buffer.alloc(0)
  let pagedHeaders: Record<string, string> = {}
  const server = createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
    if (recording) {
      const key = request.headers.authorization ?? '(none)'
      authorizations.set(key, (authorizations.get(key) ?? 0) + 1)
    }
    // A request body (none in the benchmark) is drained, not read.
    request.resume()
    if (request.url?.startsWith('/v1/me/playlists') === true) {
      response.writeHead(200, pagedHeaders)
      response.end(paged)
      return
    }
    response.writeHead(200, RESPONSE_HEADERS)
    response.end(ME_BODY)
  })
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 2048 }, resolve))
  const { port } = server.address() as AddressInfo
  paged = pagedBody(`http://127.0.0.1:${port}`)
  pagedHeaders = { ...RESPONSE_HEADERS, 'content-length': String(paged.length) }
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
