// A deployment on PostgreSQL: sessions sealed in your own database and shared
// by every instance, limits on the routes that create sessions, timeouts that
// cut slow clients off, and a clean shutdown.
//
//   npm install fastify fastify-spotify-auth pg @fastify/rate-limit
//
// Required: DATABASE_URL, SESSION_SECRET (at least 32 characters, the same on
// every instance), SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET and
// SPOTIFY_REDIRECT_URI (https in production, registered in the app's settings).
import rateLimit from '@fastify/rate-limit'
import Fastify from 'fastify'
import spotifyAuth, { pgStore } from 'fastify-spotify-auth'
import pg from 'pg'

const redirectUri = process.env.SPOTIFY_REDIRECT_URI!

// #region server
const app = Fastify({
  logger: true,
  requestTimeout: 30_000, // a trickled body cannot hold a connection
  connectionTimeout: 60_000
  // Behind a TLS-terminating proxy, set trustProxy so that the rate limit
  // below counts client addresses, not the proxy's.
})
// #endregion server

// #region pool
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  connectionTimeoutMillis: 2000 // a drained pool fails instead of queueing forever
})
pool.on('error', (err) => app.log.warn({ err }, 'PostgreSQL dropped an idle connection'))
app.addHook('onClose', () => pool.end()) // yours: the store never ends it
// #endregion pool

// #region rate-limit
// Every login creates a session: limit logins and callbacks per client.
const sessionRoutes = ['/login', new URL(redirectUri).pathname]
app.addHook('onRoute', (route) => {
  if (sessionRoutes.includes(route.url)) {
    route.config = { ...route.config, rateLimit: { max: 30, timeWindow: 60_000 } }
  }
})
await app.register(rateLimit, { global: false })
// #endregion rate-limit

await app.register(spotifyAuth, {
  clientId: process.env.SPOTIFY_CLIENT_ID!,
  clientSecret: process.env.SPOTIFY_CLIENT_SECRET!,
  redirectUri,
  secret: process.env.SESSION_SECRET!,
  scopes: ['user-read-private'],
  // Creates its two tables on first start (createTable: false when you
  // run migrations yourself).
  store: pgStore({ pool }),
  accountsUrl: process.env.SPOTIFY_ACCOUNTS_URL, // Spotify's own unless set
  apiUrl: process.env.SPOTIFY_API_URL
})

app.get('/', { onRequest: app.spotify.authenticate }, async (request) => {
  const me = await request.spotify.api.get('me').json<{ id: string, display_name: string | null }>()
  return { id: me.id, displayName: me.display_name }
})

// Finish the requests in flight, close the store's pool, then exit.
process.once('SIGTERM', () => app.close())

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
