/**
 * The demo's HTML: one layout, the logged-out page, the logged-in page and
 * the error page. Self-contained (inline CSS and script under a per-response
 * CSP nonce, no external resources) and every interpolated value escaped.
 */
import { randomBytes } from 'node:crypto'
import type { SpotifyUsage, SpotifyUsagePeriod } from '../plugin/index.js'
import { CLIENT_SCRIPT } from './client-script.js'

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Escapes text for element content and quoted attributes. */
export function escapeHtml (value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

/** What every page needs: the nonce of this response and where images may come from. */
export interface PageContext {
  readonly nonce: string
  /** `img-src` sources besides `'self'` and `https:` (the emulator's origin, which serves its fixture pictures). */
  readonly imageOrigins: readonly string[]
  /** `emulator` or `spotify`: shown as a badge. */
  readonly mode: 'emulator' | 'spotify'
}

export function newNonce (): string {
  return randomBytes(16).toString('base64')
}

/** Headers of every HTML response. */
export function htmlHeaders (context: PageContext): Record<string, string> {
  const nonce = `'nonce-${context.nonce}'`
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': [
      "default-src 'none'",
      `script-src ${nonce}`,
      `style-src ${nonce}`,
      ["img-src 'self' https:", ...context.imageOrigins].join(' '),
      "connect-src 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'"
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer'
  }
}

const STYLE = `
  :root { --green: #1db954; --card: #181818; --muted: #b3b3b3; --line: #2a2a2a; color-scheme: dark; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; } /* over the buttons' inline-block: a hidden button stays hidden */
  body { margin: 0; min-height: 100vh; color: #fff; background: linear-gradient(#1f4430, #121212 22rem) no-repeat, #121212;
    font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
  a { color: var(--green); }
  .bar { display: flex; align-items: center; gap: 1rem; padding: 1rem 2rem; }
  .brand { display: flex; align-items: center; gap: .6rem; font-weight: 700; }
  .dot { width: 1.5rem; height: 1.5rem; border-radius: 50%; background: var(--green); }
  .badge { font-size: .7rem; text-transform: uppercase; letter-spacing: .08em; color: var(--muted);
    border: 1px solid #535353; border-radius: 999px; padding: .1rem .6rem; }
  .spacer { flex: 1; }
  .bar form { margin: 0; }
  main { max-width: 66rem; margin: 0 auto; padding: 1rem 2rem 2rem; display: grid; gap: 1.5rem;
    grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); }
  main.single { display: block; max-width: 38rem; padding-top: 4rem; }
  .card { background: var(--card); border-radius: 12px; padding: 1.5rem; }
  .wide { grid-column: 1 / -1; }
  h1 { font-size: 2.2rem; line-height: 1.15; margin: .15rem 0 .5rem; }
  h2 { font-size: 1.15rem; margin: 0 0 .5rem; }
  .label { margin: 0; color: var(--muted); font-size: .75rem; font-weight: 700; text-transform: uppercase; letter-spacing: .08em; }
  .note { color: var(--muted); font-size: .875rem; }
  .profile { display: flex; gap: 1.5rem; align-items: center; }
  .avatar { width: 112px; height: 112px; border-radius: 50%; object-fit: cover; flex: none; background: #333;
    display: grid; place-items: center; font-size: 3rem; font-weight: 700; box-shadow: 0 8px 24px rgba(0, 0, 0, .5); }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1.25rem; margin: .75rem 0 1rem; }
  dt { color: var(--muted); }
  dd { margin: 0; }
  .chips { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: .35rem; }
  .chips li { background: var(--line); border-radius: 999px; padding: .05rem .6rem; font: .8rem ui-monospace, SFMono-Regular, Menlo, monospace; }
  #expires-in { font-size: 1.35rem; font-weight: 700; font-variant-numeric: tabular-nums; }
  .button, button { display: inline-block; font: inherit; font-weight: 700; border: 0; border-radius: 999px;
    padding: .75rem 1.75rem; cursor: pointer; text-decoration: none; }
  .primary { background: var(--green); color: #000; }
  .primary:hover { background: #1ed760; }
  .ghost { background: transparent; color: #fff; border: 1px solid #727272; padding: .5rem 1.25rem; }
  .ghost:hover { border-color: #fff; }
  button:disabled { opacity: .4; cursor: default; }
  .status { min-height: 1.5em; margin: .75rem 0 0; color: var(--muted); }
  .playlists { list-style: none; padding: 0; margin: 0; display: grid; gap: .25rem;
    grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); }
  .playlists li { display: flex; gap: .9rem; align-items: center; padding: .5rem; border-radius: 6px; }
  .playlists li:hover { background: #282828; }
  .cover { width: 52px; height: 52px; border-radius: 4px; flex: none; background: #333; object-fit: cover; }
  .playlists strong { display: block; }
  .playlists span { color: var(--muted); font-size: .85rem; }
  .pager { display: flex; align-items: center; justify-content: space-between; gap: 1rem; margin-top: 1rem; }
  .hero { text-align: center; padding: 3rem 2rem; }
  .actions { display: flex; gap: .75rem; justify-content: center; flex-wrap: wrap; margin-top: 1.5rem; }
  .detail { font: .85rem ui-monospace, SFMono-Regular, Menlo, monospace; background: #000; color: #f3727f;
    border-radius: 6px; padding: .5rem .75rem; overflow-wrap: anywhere; }
  #search input { flex: 1; min-width: 12rem; font: inherit; padding: .45rem .6rem; border-radius: 6px; border: 1px solid currentColor; background: transparent; color: inherit; }
  footer { text-align: center; color: var(--muted); font-size: .8rem; padding: 0 1rem 2rem; }
  footer a { color: var(--muted); }
`

function layout (context: PageContext, title: string, header: string, main: string, script = false): string {
  const nonce = escapeHtml(context.nonce)
  const badge = context.mode === 'emulator' ? 'Spotify emulator' : 'Spotify'
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · fastify-spotify-auth demo</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header class="bar">
<div class="brand"><span class="dot"></span>fastify-spotify-auth demo</div>
<span class="badge" id="mode">${badge}</span>
<span class="spacer"></span>
${header}
</header>
${main}
<footer>Tokens stay on the server; this browser holds only a signed session cookie.
Playlists load through <code>/spotify/*</code>, the plugin's proxy to the Web API.</footer>
${script ? `<script nonce="${nonce}">${CLIENT_SCRIPT}</script>` : ''}
</body>
</html>
`
}

/** The page without a session: one button. */
export function renderLoggedOut (context: PageContext): string {
  const note = context.mode === 'emulator'
    ? 'Running on the built-in Spotify emulator: no Spotify account needed. On its consent page, pick alice, bob or carol and press Agree.'
    : 'You will be sent to Spotify to log in and approve this app.'
  return layout(context, 'Log in', '', `<main class="single">
<section class="card hero">
<p class="label">Spotify Authorization Code flow with PKCE</p>
<h1>Log in with Spotify</h1>
<p>This demo runs the whole flow through fastify-spotify-auth, then shows your profile, your playlists
and the server-side access token as it counts down and refreshes.</p>
<div class="actions"><a class="button primary" id="login" href="/login">Log in with Spotify</a></div>
<p class="note">${escapeHtml(note)}</p>
</section>
${searchForm('')}
</main>`)
}

/** A track as the search page shows it. */
export interface FoundTrack {
  readonly name: string
  readonly artists: readonly string[]
  readonly album: string
}

/** The catalog search box: it works without login, on the app's own token. */
function searchForm (query: string): string {
  return `<section class="card">
<h2>Search the catalog</h2>
<form id="search" method="get" action="/demo/search" class="actions">
<input name="q" type="search" value="${escapeHtml(query)}" placeholder="A track, an artist…" required maxlength="100">
<button class="button" type="submit">Search</button>
</form>
<p class="note">No login needed: the demo asks Spotify with its own app token (<code>fastify.spotify.app.api</code>).</p>
</section>`
}

/** The search page: the box, and the tracks found for `query`. */
export function renderSearch (context: PageContext, query: string, tracks: readonly FoundTrack[]): string {
  const items = tracks.length === 0
    ? '<p class="note" id="no-results">No tracks found.</p>'
    : `<ol id="results">${tracks.map((track) => `<li><strong>${escapeHtml(track.name)}</strong> · ${escapeHtml(track.artists.join(', '))} <span class="note">(${escapeHtml(track.album)})</span></li>`).join('')}</ol>`
  return layout(context, `Search: ${query}`, '<a class="button" href="/">Home</a>', `<main class="single">
${searchForm(query)}
<section class="card">
<h2>Tracks for “${escapeHtml(query)}”</h2>
${items}
</section>
</main>`)
}

/** What the browser may know about the token: never the token itself. */
export interface TokenInfo {
  readonly scopes: readonly string[]
  /** Seconds until the access token expires. */
  readonly expiresIn: number
  readonly expiresAt: string
  readonly refreshes: number
  /** When the current access token was obtained by a refresh; `null` before the first refresh. */
  readonly lastRefreshAt: string | null
  /** Seconds before expiry from which the plugin refreshes on the next use. */
  readonly refreshMargin: number
}

/** The tab icon: a green dot. */
export const FAVICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="8" fill="#1db954"/></svg>'

/** Playlists per page. */
export const PLAYLIST_PAGE_SIZE = 6

/** Days before the refresh token's end from which the page asks the user to reconnect. */
export const RECONNECT_DAYS = 30

/**
 * The session panel: "reconnect by …" once fewer than RECONNECT_DAYS remain
 * before Spotify stops accepting the refresh token (\`reauthBy\`, Unix s),
 * and the user's devices, filled in by the script from the plugin's
 * session routes.
 */
function sessionPanel (reauthBy: number, now: number): string {
  const iso = new Date(reauthBy * 1000).toISOString()
  const soon = reauthBy * 1000 - now < RECONNECT_DAYS * 24 * 3600_000
  return `<section class="card wide" id="session" data-reauth-by="${reauthBy}">
<p class="status" id="reconnect"${soon ? '' : ' hidden'}>Spotify asks you to reconnect by <time datetime="${iso}">${iso.slice(0, 10)}</time>: <a href="/login">reconnect now</a>.</p>
<h2>Your devices</h2>
<p class="note">Where you are logged in (from <code>GET /session/devices</code>).</p>
<ul class="devices" id="devices"></ul>
<button class="ghost" id="end-others" hidden>Sign out everywhere else</button>
<p class="status" id="devices-status" role="status"></p>
</section>`
}

/**
 * The page of a logged-in user: who they are, the session panel, the token
 * panel and the playlists. The script fills in who is logged in from
 * `GET /session` (the plugin's, answered from the store: no call to
 * Spotify), the devices and the playlists.
 */
export function renderLoggedIn (context: PageContext, token: TokenInfo, reauthBy: number, now = Date.now()): string {
  const scopes = token.scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')
  const lastRefresh = token.lastRefreshAt === null
    ? 'never'
    : `<time datetime="${escapeHtml(token.lastRefreshAt)}">${escapeHtml(token.lastRefreshAt.slice(11, 19))} UTC</time>`
  const minutes = Math.floor(token.expiresIn / 60)
  const seconds = String(token.expiresIn % 60).padStart(2, '0')
  return layout(context, 'Logged in', '<form method="post" action="/logout"><button class="ghost" id="logout">Log out</button></form>', `<main>
<section class="card profile wide" id="profile">
<div class="avatar" id="avatar" aria-hidden="true"></div>
<div>
<p class="label">Logged in as</p>
<h1 id="display-name">…</h1>
<dl>
<dt>Spotify id</dt><dd id="user-id"></dd>
<dt>Account id</dt><dd id="account-id"></dd>
</dl>
<p class="note">From <code>GET /session</code>: the plugin answers it from the session store, without calling Spotify.</p>
<noscript><p class="note">Without JavaScript: <a href="/session">who you are, as JSON</a>.</p></noscript>
</div>
</section>
${sessionPanel(reauthBy, now)}
<section class="card" id="token" data-expires-in="${token.expiresIn}">
<h2>Access token</h2>
<p class="note">Kept on the server. The plugin refreshes it on first use in its last ${token.refreshMargin} s;
this panel asks the server every 5 s.</p>
<dl>
<dt>Expires in</dt><dd><span id="expires-in">${minutes}:${seconds}</span></dd>
<dt>Refreshes</dt><dd id="refreshes">${token.refreshes}</dd>
<dt>Last refresh</dt><dd id="last-refresh">${lastRefresh}</dd>
<dt>Scopes granted</dt><dd><ul class="chips" id="scopes">${scopes}</ul></dd>
</dl>
<form method="post" action="/demo/refresh" id="refresh-form"><button class="primary" id="refresh-now">Refresh now</button></form>
<p class="status" id="token-status" role="status"></p>
<p class="note"><a href="/demo/usage" id="usage-link">What this server asked of Spotify</a></p>
</section>
<section class="card" id="playlists-card">
<h2>Your playlists</h2>
<p class="note" id="playlists-status">Loading through the proxy…</p>
<ul class="playlists" id="playlists" data-limit="${PLAYLIST_PAGE_SIZE}"></ul>
<nav class="pager"><button class="ghost" id="previous" disabled>← Previous</button><span class="note" id="range"></span><button class="ghost" id="next" disabled>Next →</button></nav>
<noscript><p class="note">Without JavaScript: <a href="/spotify/me/playlists">your playlists as JSON</a>.</p></noscript>
</section>
</main>`, true)
}

/** One period of `fastify.spotify.usage()` as a table: route template, then calls by source. */
function usageTable (id: string, title: string, period: SpotifyUsagePeriod): string {
  const routes = Object.entries(period.calls).sort(([a], [b]) => a.localeCompare(b))
  const rows = routes.length === 0
    ? '<tr><td colspan="4" class="note">No calls.</td></tr>'
    : routes.map(([route, by]) => `<tr><td><code>${escapeHtml(route)}</code></td><td>${by.network ?? 0}</td><td>${by.cache ?? 0}</td><td>${by.merged ?? 0}</td></tr>`).join('')
  return `<section class="card" id="${id}">
<h2>${escapeHtml(title)}</h2>
<dl>
<dt>Requests to Spotify</dt><dd class="network-calls">${period.networkCalls}</dd>
<dt>Token refreshes</dt><dd class="refreshes">${period.refreshes}</dd>
<dt>429: rate limit</dt><dd class="rate-limited">${period.rateLimited.rate}</dd>
<dt>429: quota</dt><dd class="quota-exceeded">${period.rateLimited.quota}</dd>
</dl>
<table><thead><tr><th>Route</th><th>Network</th><th>Cache</th><th>Merged</th></tr></thead><tbody>${rows}</tbody></table>
</section>`
}

/** The admin panel: what this server asked of Spotify over the last hour and day (`fastify.spotify.usage()`). */
export function renderUsage (context: PageContext, usage: SpotifyUsage): string {
  return layout(context, 'Usage', '<a class="button" href="/">Home</a>', `<main>
${usageTable('usage-hour', 'The last hour', usage.hour)}
${usageTable('usage-day', 'The last day', usage.day)}
<p class="note wide">Counted in this server's memory by <code>fastify.spotify.usage()</code>: another instance counts its own.</p>
</main>`)
}

/** A user-facing explanation of an error. */
export interface ErrorView {
  readonly status: number
  readonly code: string
  readonly title: string
  readonly text: string
  /** The error's own message, shown as a detail. */
  readonly message: string
}

/** The error page: what happened, and a way to log in again. */
export function renderError (context: PageContext, view: ErrorView): string {
  return layout(context, view.title, '', `<main class="single">
<section class="card hero" id="error">
<p class="label">Error ${view.status} · ${escapeHtml(view.code)}</p>
<h1>${escapeHtml(view.title)}</h1>
<p>${escapeHtml(view.text)}</p>
<p class="detail">${escapeHtml(view.message)}</p>
<div class="actions"><a class="button primary" id="login" href="/login">Log in again</a><a class="button ghost" href="/">Home</a></div>
</section>
</main>`)
}
