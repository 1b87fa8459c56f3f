// Compiled by `tsc --noEmit` (npm run typecheck), never run: it checks what a
// user's editor sees. Each @ts-expect-error fails the build if it stops erring.
import Fastify, { type FastifyError } from 'fastify'
import type { Got } from 'got'
import spotifyAuth, {
  InvalidStateError, UpstreamError, memoryStore, type PlaybackToken, type SpotifyFetch, type SpotifyToken, type TokenStore
} from '../../plugin/index.js'
import { createSpotifyEmulator, type SpotifyEmulator } from '../../plugin/emulator/index.js'

/** Compiles only when `value` has type T. */
function expectType<T> (value: T): T { return value }

const app = Fastify()

await app.register(spotifyAuth, {
  clientId: 'id',
  clientSecret: 'secret',
  redirectUri: 'http://127.0.0.1:5543/callback',
  secret: ['x'.repeat(32), 'y'.repeat(32)],
  scopes: ['playlist-read-private'],
  store: memoryStore({ maxSessions: 100 }),
  proxyPrefix: false,
  cookie: { maxAge: null, sameSite: 'strict' },
  retry: { limit: 1, maxRetryAfter: 5000 },
  async onLogin (request, { sessionId, token }) {
    expectType<string>(request.url)
    expectType<string>(sessionId)
    expectType<number>(token.expiresAt)
  },
  onRefresh (sessionId, token) {
    expectType<string>(sessionId)
    expectType<readonly string[]>(token.scope)
  }
})

// @ts-expect-error clientId is required
await app.register(spotifyAuth, { clientSecret: 's', redirectUri: 'x', secret: 'x' })

// @ts-expect-error pkce is a boolean
await app.register(spotifyAuth, { clientId: 'i', clientSecret: 's', redirectUri: 'x', secret: 'x', pkce: 'S256' })

app.get('/guarded', { preHandler: [app.spotify.authenticate] }, async (request, reply) => {
  await app.spotify.authenticate(request, reply)
  return 'ok'
})

app.get('/me', { onRequest: app.spotify.authenticate }, async (request) => {
  const token: SpotifyToken | null = await request.spotify.getToken()
  const access: string = await request.spotify.accessToken()
  const api: Got = request.spotify.api
  const me = await api.get('me').json<{ id: string }>()
  const sessionId: string | undefined = request.spotify.sessionId
  const fetched: Response = await request.spotify.fetch('me/playlists', { headers: { accept: 'application/json' } })
  expectType<SpotifyFetch>(app.spotify.session('id').fetch)
  expectType<Promise<Response>>(app.spotify.app.fetch(new URL('https://api.spotify.com/v1/search?q=a&type=track'), {
    transport: async (url, init) => await fetch(url, init)
  }))
  // @ts-expect-error a transport is a fetch, not a URL
  await app.spotify.app.fetch('search', { transport: 'http://127.0.0.1:9' })
  await request.spotify.logout()
  // @ts-expect-error the token is read-only
  if (token !== null) token.accessToken = 'x'
  return { me: me.id, access, sessionId, status: fetched.status }
})

await app.register(spotifyAuth, {
  clientId: 'id',
  clientSecret: 'secret',
  redirectUri: 'https://app.example/callback',
  secret: 'x'.repeat(32),
  scopes: ['user-read-private'],
  optionalScopes: ['streaming', 'user-top-read'],
  playbackTokenPath: '/spotify-token',
  routeSchema: { tags: ['auth'], hide: false },
  cookie: { sameSite: 'none', secure: true }
})

// @ts-expect-error routeSchema.hide is a boolean
await app.register(spotifyAuth, { clientId: 'i', clientSecret: 's', redirectUri: 'x', secret: 'x', routeSchema: { hide: 'yes' } })

app.get('/top', { preHandler: app.spotify.requireScopes(['user-top-read']) }, async () => 'top')
app.get('/top2', { onRequest: [app.spotify.authenticate, app.spotify.requireScopes(['user-top-read'])] }, async () => 'top')
const playback: PlaybackToken = { accessToken: 'a', expiresAt: 1 }
expectType<number>(playback.expiresAt)

expectType<TokenStore>(app.spotify.store)
const custom: TokenStore = {
  async get () { return undefined },
  async set () {},
  async update () { return false },
  async delete () {}
}
expectType<TokenStore>(custom)

const error: FastifyError = new InvalidStateError()
expectType<string>(error.code)
// Each error's code and status are literal types, and its arguments are checked.
expectType<'FST_SPOTIFY_INVALID_STATE'>(new InvalidStateError().code)
expectType<403>(InvalidStateError().statusCode)
const upstream = new UpstreamError('down', { cause: { name: 'Error', code: 'ECONNRESET', message: 'reset' } })
expectType<502>(upstream.statusCode)
// @ts-expect-error an error with a fixed message takes no detail
expectType<unknown>(new InvalidStateError('detail'))
// @ts-expect-error an error with a detail needs it
expectType<unknown>(new UpstreamError())

const emulator: SpotifyEmulator = await createSpotifyEmulator({ autoApprove: true, accessTokenTtl: 60 })
expectType<number>(emulator.control.counters.refresh_token)
await emulator.close()
