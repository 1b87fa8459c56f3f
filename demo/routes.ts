/**
 * The demo's own routes, all built on `request.spotify`:
 *
 * - `GET /`: the logged-out page, or the logged-in page: who is logged in
 *   (filled in by the page's script from the plugin's `GET /session`, with
 *   no call to Spotify), the token panel, the devices and the playlists;
 * - `GET /demo/token-info`: what the page may know about the token (never
 *   the token), polled by the page; `getToken()` refreshes it when due;
 * - `POST /demo/refresh`: `request.spotify.refresh()`, for "Refresh now":
 *   from the demo's own pages only (Origin, like the plugin's own POST
 *   routes), and at most `FORCED_REFRESHES` per session a minute;
 * - `GET /demo/search?q=`: a catalog search on the app's own token
 *   (`fastify.spotify.app.api`), for anyone, logged in or not;
 * - `GET /demo/usage`: the admin panel, what this server asked of Spotify
 *   over the last hour and day (`fastify.spotify.usage()`), for a logged-in
 *   user (a real app would ask for an admin);
 * - `GET /health`: `fastify.spotify.health()`, for a readiness probe (503
 *   while the session store is unreachable);
 * - `GET /favicon.svg`: the tab icon.
 */
import type { FastifyPluginAsync } from 'fastify'
import { LruMap } from 'toad-cache'
import { CrossSiteRequestError, NoSessionError, type SpotifyToken } from '../plugin/index.js'
import { fromAllowedOrigin } from '../plugin/routes/same-origin.js'
import { apiFailure, wantsHtml } from './errors.js'
import { FAVICON, htmlHeaders, renderLoggedIn, renderLoggedOut, renderSearch, renderUsage, type PageContext, type TokenInfo } from './html.js'

/** The part of a track search the demo reads. */
interface SearchTracks {
  tracks: { items: Array<{ name: string, artists: Array<{ name: string }>, album: { name: string } }> }
}

/** Forced refreshes one session may ask for per `FORCED_WINDOW` ms: each is a call to Spotify's token endpoint. */
export const FORCED_REFRESHES = 3
const FORCED_WINDOW = 60_000

export interface DemoRoutesOptions {
  /** Origins whose pages may post "Refresh now": the demo's own. */
  allowedOrigins: ReadonlySet<string>
  /** The page context of a new response. */
  context: () => PageContext
  /** The plugin's `refreshMargin`, in ms, for the page's explanation. */
  refreshMargin: number
}

/** The facts about a token that the browser may see; durations in seconds, as the page counts them. */
export function tokenInfo (token: SpotifyToken, refreshMargin: number, now = Date.now()): TokenInfo {
  return {
    scopes: token.scope,
    expiresIn: Math.max(0, Math.floor((token.expiresAt * 1000 - now) / 1000)),
    expiresAt: new Date(token.expiresAt * 1000).toISOString(),
    refreshes: token.refreshes,
    lastRefreshAt: token.refreshes > 0 ? new Date(token.obtainedAt * 1000).toISOString() : null,
    refreshMargin: Math.floor(refreshMargin / 1000)
  }
}

export const demoRoutes: FastifyPluginAsync<DemoRoutesOptions> = async (app, { context, refreshMargin, allowedOrigins }) => {
  // Session id → times of its recent forced refreshes (one instance's view:
  // enough to keep a script from turning a page into a token-call pump).
  const forced = new LruMap<number[]>(10_000)
  app.get('/', async (request, reply) => {
    const token = await request.spotify.getToken()
    const page = context()
    if (token === null) return reply.headers(htmlHeaders(page)).send(renderLoggedOut(page))
    return reply.headers(htmlHeaders(page)).send(renderLoggedIn(page, tokenInfo(token, refreshMargin), token.refreshTokenExpiresAt))
  })

  app.get('/demo/search', {
    schema: { querystring: { type: 'object', properties: { q: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['q'] } }
  }, async (request, reply) => {
    const { q } = request.query as { q: string }
    let found: SearchTracks
    try {
      found = await app.spotify.app.api.get('search', { searchParams: { q, type: 'track', limit: 10 } }).json<SearchTracks>()
    } catch (err) {
      throw apiFailure(err)
    }
    const tracks = found.tracks.items.map((track) => ({ name: track.name, artists: track.artists.map((a) => a.name), album: track.album.name }))
    if (!wantsHtml(request)) return { tracks }
    const page = context()
    return reply.headers(htmlHeaders(page)).send(renderSearch(page, q, tracks))
  })

  app.get('/demo/usage', { onRequest: app.spotify.authenticate }, async (request, reply) => {
    const usage = await app.spotify.usage()
    if (!wantsHtml(request)) return reply.header('cache-control', 'no-store').send(usage)
    const page = context()
    return reply.headers(htmlHeaders(page)).send(renderUsage(page, usage))
  })

  // A readiness probe: the store answers, with no call to Spotify. A rate
  // limit is reported, not a failure: logins and pages still work.
  app.get('/health', async (_request, reply) => {
    const health = await app.spotify.health()
    return reply.code(health.store === 'ok' ? 200 : 503).header('cache-control', 'no-store').send(health)
  })

  app.get('/favicon.svg', async (_request, reply) => {
    return reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON)
  })

  app.get('/demo/token-info', async (request, reply) => {
    const token = await request.spotify.getToken()
    if (token === null) throw new NoSessionError()
    return reply.header('cache-control', 'no-store').send(tokenInfo(token, refreshMargin))
  })

  app.post('/demo/refresh', {
    // A form on another port of this host is same-site and carries the Lax
    // cookie: only the demo's own pages may post, as the plugin's routes do.
    onRequest: async (request) => {
      if (!fromAllowedOrigin(request, allowedOrigins)) throw new CrossSiteRequestError()
    }
  }, async (request, reply) => {
    const sessionId = request.spotify.sessionId
    if (sessionId !== undefined) {
      const now = Date.now()
      const recent = (forced.get(sessionId) ?? []).filter((at) => at > now - FORCED_WINDOW)
      if (recent.length >= FORCED_REFRESHES) {
        const wait = Math.max(1, Math.ceil(((recent[0] as number) + FORCED_WINDOW - now) / 1000))
        return reply.code(429).headers({ 'retry-after': String(wait), 'cache-control': 'no-store' })
          .send({ error: { status: 429, message: `Refreshed ${FORCED_REFRESHES} times this minute: try again in ${wait} s` } })
      }
      forced.set(sessionId, [...recent, now])
    }
    const token = await request.spotify.refresh()
    if (token === null) throw new NoSessionError()
    // The page's form without JavaScript: back to the page, which shows the new count.
    if (wantsHtml(request)) return reply.redirect('/', 303)
    return reply.header('cache-control', 'no-store').send(tokenInfo(token, refreshMargin))
  })
}
