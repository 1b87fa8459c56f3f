/**
 * One app instance of bench/stores.ts's cross-instance storm: the plugin on
 * the Redis store (prefix argv[3]; argv[4] `no-pubsub` turns its pub/sub
 * off) against the emulator at argv[2], with a
 * bare route (to open connections) and a route behind `authenticate`.
 * Reports its URL over IPC once ready; closes on `close`. Run by
 * bench/stores.ts, never directly.
 */
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import spotifyAuth, { redisStore } from '../../plugin/index.js'
import { BENCH_APP } from './store-server-config.js'

const [emulatorUrl, prefix, mode] = process.argv.slice(2) as [string, string, string | undefined]
const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
const app = Fastify({ logger: false })
await app.register(spotifyAuth, { ...BENCH_APP, accountsUrl: emulatorUrl, apiUrl: emulatorUrl, store: redisStore({ client, prefix, pubsub: mode !== 'no-pubsub' }) })
app.get('/bare', async () => ({ ok: true }))
app.get('/authed', { onRequest: app.spotify.authenticate }, async () => ({ ok: true }))
await app.listen({ host: '127.0.0.1', port: 0, backlog: 2048 })

process.on('message', (message: string) => {
  if (message !== 'close') return
  app.close().then(() => client.quit()).then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1) })
})
process.send?.({ url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` })
