/**
 * The server process of the benchmark: the static upstream, the emulator (for
 * accounts), the app with fastify-spotify-auth and the app with
 * @fastify/http-proxy, all in this one process, driven over IPC by the load
 * generator. Run by bench/lib/child.ts, never directly.
 */
import httpProxy from '@fastify/http-proxy'
import Fastify, { type FastifyInstance } from 'fastify'
import type { SpotifyAuthOptions } from '../../plugin/index.js'
import { compiledEmulator, compiledPlugin } from './compiled.js'
import { sessionIdOf, type Command, type CpuSample, type Reply, type StormCheck, type StormSession } from './protocol.js'
import { startStaticUpstream } from './upstream.js'

const CLIENT_ID = 'bench-client-id'
const CLIENT_SECRET = 'bench-client-secret'
const REDIRECT_URI = 'http://127.0.0.1:5543/callback'
const SECRET = 'bench-session-secret-of-at-least-32-characters'
const SCOPES = ['user-read-private', 'user-read-email', 'playlist-read-private', 'playlist-read-collaborative']
/** What the hand-wired peer adds: a fixed token of a realistic length. */
const PEER_AUTHORIZATION = 'Bearer BQ' + 'x'.repeat(160)
/** The body of the bare routes (4a, 4b). */
const SMALL = { ok: true }
/** Shorter than the plugin's default refreshMargin (60 s): such a token counts as expired at once. */
const EXPIRED_TTL = 30
const FRESH_TTL = 3600

function send (message: Reply): void {
  process.send?.(message)
}

// The plugin as it ships (compiled.ts), not its sources through tsx.
const { default: spotifyAuth, memoryStore } = await compiledPlugin()
const { createSpotifyEmulator } = await compiledEmulator()
const upstream = await startStaticUpstream()
const emulator = await createSpotifyEmulator({
  autoApprove: true,
  accessTokenTtl: FRESH_TTL,
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI], name: 'Bench' }]
})

const options: SpotifyAuthOptions = {
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  redirectUri: REDIRECT_URI,
  secret: SECRET,
  scopes: SCOPES,
  // One store for both apps: a session of one is a session of the other.
  store: memoryStore(),
  accountsUrl: emulator.url,
  apiUrl: upstream.url
}
const app = Fastify({ logger: false })
await app.register(spotifyAuth, options)
app.get('/bare', async () => SMALL)
app.get('/authed', { onRequest: app.spotify.authenticate }, async () => SMALL)
await app.listen({ host: '127.0.0.1', port: 0, backlog: 2048 })

// The same plugin with link rewriting off (target 3q): what rewriting costs.
const plain = Fastify({ logger: false })
await plain.register(spotifyAuth, { ...options, proxyRewriteLinks: false })
await plain.listen({ host: '127.0.0.1', port: 0, backlog: 2048 })

const peer: FastifyInstance = Fastify({ logger: false })
await peer.register(httpProxy, {
  upstream: upstream.url,
  prefix: '/spotify',
  rewritePrefix: '/v1',
  replyOptions: {
    rewriteRequestHeaders (_request, headers) {
      // What a careful hand-written proxy does: the browser's cookie stays
      // behind, the server's bearer token goes along.
      const { cookie: _cookie, ...rest } = headers
      return { ...rest, authorization: PEER_AUTHORIZATION }
    }
  }
})
await peer.listen({ host: '127.0.0.1', port: 0, backlog: 2048 })

/**
 * The whole login, in process: /login, the emulator's "Agree", the callback.
 * With `check`, one proxied call proves the session works (it would refresh
 * an expired token, so the storm's sessions skip it).
 */
async function login (check: boolean): Promise<string> {
  const start = await app.inject({ url: '/login' })
  const flowCookies = start.cookies.map((c) => `${c.name}=${c.value}`).join('; ')
  const back = new URL(emulator.control.authorize(new URL(start.headers.location as string).searchParams))
  const callback = await app.inject({ url: back.pathname + back.search, headers: { cookie: flowCookies } })
  const session = [callback.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('spotify_session='))
  if (callback.statusCode !== 302 || session === undefined) {
    throw new Error(`bench: login failed (${callback.statusCode} ${callback.body})`)
  }
  const cookie = session.slice(0, session.indexOf(';'))
  if (check) {
    const proxied = await app.inject({ url: '/spotify/me', headers: { cookie } })
    if (proxied.statusCode !== 200 || proxied.rawPayload.length === 0) throw new Error(`bench: proxy check failed (${proxied.statusCode})`)
  }
  return cookie
}

async function stormSession (expired: boolean): Promise<StormSession> {
  emulator.control.setAccessTokenTtl(expired ? EXPIRED_TTL : FRESH_TTL)
  let cookie: string
  try {
    cookie = await login(false)
  } finally {
    emulator.control.setAccessTokenTtl(FRESH_TTL)
  }
  const token = await app.spotify.store.get(sessionIdOf(cookie))
  if (token === undefined) throw new Error('bench: storm session not stored')
  emulator.control.resetCounters()
  upstream.record(true)
  return { cookie, loginAccessToken: token.accessToken }
}

async function stormCheck (cookie: string, loginAccessToken?: string): Promise<StormCheck> {
  upstream.record(false)
  const token = await app.spotify.store.get(sessionIdOf(cookie))
  if (token === undefined) throw new Error('bench: storm session gone')
  const bearer = `Bearer ${token.accessToken}`
  let upstreamCalls = 0
  for (const count of upstream.authorizations.values()) upstreamCalls += count
  return {
    refreshCalls: emulator.control.counters.refresh_token,
    refreshes: token.refreshes,
    accessTokenChanged: loginAccessToken === undefined ? token.refreshes > 0 : token.accessToken !== loginAccessToken,
    distinctAuthorizations: upstream.authorizations.size,
    upstreamCallsWithStoredToken: upstream.authorizations.get(bearer) ?? 0,
    upstreamCalls
  }
}

function cpu (): CpuSample {
  const { user, system } = process.cpuUsage()
  return { user, system, at: Number(process.hrtime.bigint() / 1000n) }
}

async function close (): Promise<void> {
  await Promise.all([app.close(), plain.close(), peer.close()])
  await emulator.close()
  await upstream.close()
}

const marks: number[] = []
const stormTokens = new Map<string, string>()

async function handle (message: Command): Promise<unknown> {
  switch (message.command) {
    case 'cpu': return cpu()
    case 'storm-session': {
      const session = await stormSession(message.expired)
      stormTokens.set(session.cookie, session.loginAccessToken)
      return session
    }
    case 'storm-check': return await stormCheck(message.cookie, stormTokens.get(message.cookie))
    case 'mark': {
      // Microseconds on the monotonic clock, the time base of --cpu-prof.
      marks.push(Number(process.hrtime.bigint() / 1000n))
      return marks.at(-1)
    }
    case 'close':
      await close()
      setImmediate(() => process.exit(0))
      return marks
  }
}

process.on('message', (message: Command) => {
  handle(message).then(
    (result) => send({ type: 'result', id: message.id, ok: true, result }),
    (err: Error) => send({ type: 'result', id: message.id, ok: false, error: err.stack ?? String(err) })
  )
})
process.on('disconnect', () => { process.exit(0) })

send({
  type: 'ready',
  info: {
    upstreamUrl: upstream.url,
    appUrl: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`,
    peerUrl: `http://127.0.0.1:${(peer.server.address() as { port: number }).port}`,
    plainUrl: `http://127.0.0.1:${(plain.server.address() as { port: number }).port}`,
    cookie: await login(true),
    emulatorUrl: emulator.url
  }
})
