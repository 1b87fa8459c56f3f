// server.mjs: log in with Spotify, offline, against the emulator that ships
// with the plugin. Run it with `node server.mjs` and open http://127.0.0.1:3000/
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import spotifyAuth from 'fastify-spotify-auth'
import { createSpotifyEmulator } from 'fastify-spotify-auth/emulator'

const port = Number(process.env.PORT ?? 3000)
const redirectUri = `http://127.0.0.1:${port}/callback`

// A local stand-in for Spotify, with your app registered: no account needed.
const spotify = await createSpotifyEmulator({
  clients: [{ clientId: 'my-app', clientSecret: 'my-app-secret', redirectUris: [redirectUri] }]
})

const app = Fastify({ logger: true })
app.addHook('onClose', () => spotify.close())

await app.register(spotifyAuth, {
  clientId: 'my-app',
  clientSecret: 'my-app-secret',
  redirectUri,
  secret: randomBytes(32).toString('base64'), // signs the session cookie
  scopes: ['playlist-read-private'],
  accountsUrl: spotify.url, // leave these two out to use the real Spotify
  apiUrl: spotify.url
})

/** @param {string} text */
const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

app.get('/', async (request, reply) => {
  reply.type('text/html; charset=utf-8')
  if (await request.spotify.getToken() === null) {
    return '<a href="/login">Log in with Spotify</a>'
  }
  const me = await request.spotify.api.get('me').json()
  const playlists = await request.spotify.api.get('me/playlists').json()
  let items = ''
  for (const playlist of playlists.items) items += `<li>${escapeHtml(playlist.name)}</li>`
  return `<h1>Hello, ${escapeHtml(me.display_name)}</h1>
<p>Your playlists:</p>
<ul>${items}</ul>
<form method="post" action="/logout"><button>Log out</button></form>`
})

await app.listen({ host: '127.0.0.1', port })
