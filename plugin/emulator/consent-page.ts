/**
 * The accounts service's HTML: the consent page and the error page. Self
 * contained (inline CSS, no scripts, no external resources) and every
 * interpolated value escaped, because client names, scopes and `state`
 * come from whoever built the authorize URL.
 */
import { AUTHORIZE_PARAMS, type AuthorizeRequest } from './authorize.js'
import type { FixtureUser } from './fixtures.js'
import { NO_SCOPE_DESCRIPTION, SCOPES } from './scopes.js'

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Escapes text for HTML element content and double- or single-quoted attributes. */
export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

/** Headers for every HTML response: nothing may load, nothing may frame it. */
export const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer'
} as const

const STYLE = `
  body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
    background: #121212; color: #fff; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
  main { width: min(28rem, 92vw); background: #fff; color: #121212; border-radius: 12px; padding: 2rem; box-sizing: border-box; }
  .brand { display: flex; align-items: center; gap: .5rem; font-weight: 700; color: #1db954; margin-bottom: 1rem; }
  .brand span { display: inline-block; width: 1.5rem; height: 1.5rem; border-radius: 50%; background: #1db954; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  .note { color: #6a6a6a; font-size: .85rem; margin: 0 0 1rem; }
  ul { list-style: none; padding: 0; margin: 1rem 0; }
  li { padding: .6rem 0; border-top: 1px solid #e6e6e6; }
  li code { display: block; color: #6a6a6a; font-size: .75rem; }
  label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
  select { width: 100%; padding: .5rem; border-radius: 6px; border: 1px solid #b3b3b3; font: inherit; }
  .actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { flex: 1; padding: .8rem 1rem; border-radius: 500px; font: inherit; font-weight: 700; cursor: pointer; }
  .agree { background: #1db954; border: 0; color: #000; }
  .cancel { background: transparent; border: 1px solid #878787; color: #121212; }
  .error { color: #e22134; font-weight: 700; }
`

function layout (title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<div class="brand"><span></span>Spotify emulator</div>
${body}
</main>
</body>
</html>
`
}

/** The consent page: app name, the scopes in plain words, a user picker, Agree and Cancel. */
export function renderConsentPage (request: AuthorizeRequest, userList: readonly FixtureUser[]): string {
  const scopeItems = request.scopes.length === 0
    ? `<li>${escapeHtml(NO_SCOPE_DESCRIPTION)}</li>`
    : request.scopes.map((s) => `<li>${escapeHtml(SCOPES.get(s)!)}<code>${escapeHtml(s)}</code></li>`).join('\n')
  const hidden = AUTHORIZE_PARAMS
    .filter((name) => request.params.has(name))
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(request.params.get(name)!)}">`)
    .join('\n')
  const options = userList
    .map((u) => `<option value="${escapeHtml(u.id)}">${escapeHtml(u.display_name)} (${escapeHtml(u.id)}, ${u.product})</option>`)
    .join('\n')
  const name = escapeHtml(request.client.name)
  return layout(`Authorize ${request.client.name}`, `<h1>Allow ${name} to access your account?</h1>
<p class="note">An emulated Spotify consent page. Agreeing sends a single-use code to ${escapeHtml(request.redirectUri)}.</p>
<p><strong>${name}</strong> will be able to:</p>
<ul>
${scopeItems}
</ul>
<form method="post" action="/authorize/decision">
${hidden}
<label for="user_id">Log in as</label>
<select id="user_id" name="user_id">
${options}
</select>
<div class="actions">
<button class="cancel" type="submit" name="decision" value="cancel">Cancel</button>
<button class="agree" type="submit" name="decision" value="agree">Agree</button>
</div>
</form>`)
}

/** The page Spotify shows instead of redirecting when the client or redirect URI is wrong. */
export function renderErrorPage (message: string): string {
  return layout('Error', `<h1>Something went wrong</h1>
<p class="error">${escapeHtml(message)}</p>`)
}
