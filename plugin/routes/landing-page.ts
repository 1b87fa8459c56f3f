import type { FastifyReply } from 'fastify'

function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/**
 * The end of a login with `SameSite=Strict` session cookies. The callback
 * is the last hop of a navigation that began on accounts.spotify.com: a
 * redirect from it stays in that cross-site navigation, so the browser
 * would not send the new Strict cookie and the user would land logged out.
 * A small page of the app's own that then navigates starts a new,
 * same-site navigation, which carries the cookie. It needs no script (a
 * `<meta http-equiv="refresh">`, which a strict CSP allows), is never
 * cached and sends no referrer (the callback's URL held the code).
 */
export function sendLandingPage (reply: FastifyReply, to: string): FastifyReply {
  const target = escapeHtml(to)
  return reply.code(200).headers({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff'
  }).send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${target}"><title>Logged in</title></head>
<body><p>Logged in. <a href="${target}">Continue</a></p></body></html>
`)
}
