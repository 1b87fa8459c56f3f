// The demo server: `npm start`. Without SPOTIFY_CLIENT_ID it starts the
// emulator and logs in against it, so it runs offline with no credentials.
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import spotifyAuth from '../plugin/index.js'
import { createSpotifyEmulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET } from '../plugin/emulator/index.js'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 5543)
const redirectUri = process.env.SPOTIFY_REDIRECT_URI ?? `http://127.0.0.1:${port}/callback`
const scopes = (process.env.SPOTIFY_SCOPES ?? 'user-read-private user-read-email playlist-read-private playlist-read-collaborative')
  .split(/[\s,]+/).filter(Boolean)

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })

const real = process.env.SPOTIFY_CLIENT_ID !== undefined
const emulator = real
  ? undefined
  : await createSpotifyEmulator({ clients: [{ clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET, redirectUris: [redirectUri], name: 'fastify-spotify-auth demo' }] })

let secret = process.env.SESSION_SECRET
if (secret === undefined) {
  secret = randomBytes(32).toString('base64url')
  app.log.warn('SESSION_SECRET is not set: using a random one, so sessions end when the server restarts')
}

await app.register(spotifyAuth, {
  clientId: process.env.SPOTIFY_CLIENT_ID ?? DEFAULT_CLIENT_ID,
  clientSecret: process.env.SPOTIFY_CLIENT_SECRET ?? DEFAULT_CLIENT_SECRET,
  redirectUri,
  secret,
  scopes,
  ...(emulator === undefined ? {} : { accountsUrl: emulator.url, apiUrl: emulator.url }),
  ...(process.env.SPOTIFY_ACCOUNTS_URL === undefined ? {} : { accountsUrl: process.env.SPOTIFY_ACCOUNTS_URL }),
  ...(process.env.SPOTIFY_API_URL === undefined ? {} : { apiUrl: process.env.SPOTIFY_API_URL })
})

app.get('/', async (request, reply) => {
  const token = await request.spotify.getToken()
  if (token === null) {
    return reply.type('text/html').send('<h1>fastify-spotify-auth demo</h1><a href="/login">Log in with Spotify</a>')
  }
  const me = await request.spotify.api.get('me').json<{ display_name: string }>()
  return reply.type('text/html').send(`<h1>Hello ${me.display_name.replace(/[<>&"]/g, '')}</h1>
<p><a href="/spotify/me/playlists">Your playlists (JSON, through the proxy)</a></p>
<form method="post" action="/logout"><button>Log out</button></form>`)
})

app.addHook('onClose', async () => { await emulator?.close() })
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { app.close().catch((err: unknown) => app.log.error({ err }, 'shutdown failed')) })
}

await app.listen({ host, port })
app.log.info(`Open http://127.0.0.1:${port}/ ${emulator === undefined ? '(real Spotify)' : '(offline: Spotify emulator at ' + emulator.url + ')'}`)
