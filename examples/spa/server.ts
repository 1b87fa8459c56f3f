// A single-page app on the Web API through the plugin's proxy: the page asks
// GET /session who is logged in, then calls /spotify/… with its session
// cookie and the server adds the user's token, refreshing it when due. No
// token ever reaches the browser.
//
// SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET and SESSION_SECRET are required;
// register http://127.0.0.1:3000/callback (or your PORT) in the app's settings.
import { readFile } from 'node:fs/promises'
import Fastify from 'fastify'
import spotifyAuth from 'fastify-spotify-auth'

const port = Number(process.env.PORT ?? 3000)
const page = await readFile(new URL('index.html', import.meta.url))
const script = await readFile(new URL('page.js', import.meta.url))

const app = Fastify({ logger: true })
await app.register(spotifyAuth, {
  clientId: process.env.SPOTIFY_CLIENT_ID!, // register refuses a missing one, naming it
  clientSecret: process.env.SPOTIFY_CLIENT_SECRET!,
  redirectUri: `http://127.0.0.1:${port}/callback`,
  secret: process.env.SESSION_SECRET!, // at least 32 characters
  scopes: ['playlist-read-private'],
  // Spotify's own unless set: the tests point them at the emulator.
  accountsUrl: process.env.SPOTIFY_ACCOUNTS_URL,
  apiUrl: process.env.SPOTIFY_API_URL
})

// The page runs only this origin's scripts, and they talk only to this origin.
app.get('/', async (_request, reply) => reply
  .type('text/html; charset=utf-8')
  .header('content-security-policy', "default-src 'self'")
  .send(page))
app.get('/page.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(script))

await app.listen({ host: '127.0.0.1', port })
