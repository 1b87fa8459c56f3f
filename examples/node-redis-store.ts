// Sessions in Redis through node-redis (the `redis` package), the client an
// app may already have: no second client, no second connection pool.
// Run: REDIS_URL=redis://127.0.0.1:6379 SESSION_SECRET=… node --import tsx node-redis-store.ts
import Fastify from 'fastify'
import spotifyAuth, { redisStore } from 'fastify-spotify-auth'
import { createClient } from 'redis'

const app = Fastify({ logger: true })

// #region client
const redis = createClient({ url: process.env.REDIS_URL })  // RESP3 by default; { RESP: 2 } works too
redis.on('error', (err) => app.log.warn({ err }, 'redis'))
await redis.connect()                                         // node-redis clients connect explicitly
app.addHook('onClose', () => redis.close())                   // yours: the plugin never closes it

await app.register(spotifyAuth, {
  clientId: process.env.SPOTIFY_CLIENT_ID ?? '',
  clientSecret: process.env.SPOTIFY_CLIENT_SECRET ?? '',
  redirectUri: 'http://127.0.0.1:3000/callback',
  secret: process.env.SESSION_SECRET ?? '',
  // The same options as with ioredis; createCluster() and createSentinel() clients fit too.
  store: redisStore({ client: redis })
})
// #endregion client

await app.listen({ port: 3000, host: '127.0.0.1' })
