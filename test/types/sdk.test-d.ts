// Compiled by `tsc --noEmit` (npm run typecheck), never run: what a user's
// editor sees of fastify-spotify-auth/sdk and /sdk/browser.
import { SpotifyApi, type Page, type SimplifiedPlaylist, type UserProfile } from '@spotify/web-api-ts-sdk'
import Fastify from 'fastify'
import spotifyAuth from '../../plugin/index.js'
import { spotifySdk } from '../../plugin/sdk/index.js'
import { nextPage, proxiedSdk } from '../../plugin/sdk/browser.js'

/** Compiles only when `value` has type T. */
function expectType<T> (value: T): T { return value }

const app = Fastify()
await app.register(spotifyAuth, { clientId: 'id', clientSecret: 'secret', redirectUri: 'http://127.0.0.1:5543/callback', secret: 'x'.repeat(32), proxyRewriteLinks: false })

app.get('/playlists', async (request) => {
  const sdk = spotifySdk(request.spotify)
  expectType<SpotifyApi>(sdk)
  return expectType<Page<SimplifiedPlaylist>>(await sdk.currentUser.playlists.playlists())
})
expectType<UserProfile>(await spotifySdk(app.spotify.session('id'), { beforeRequest () {} }).currentUser.profile())
expectType<SpotifyApi>(spotifySdk(app.spotify.app))
// @ts-expect-error: a token is not a handle
spotifySdk('a-token')

const browserSdk = proxiedSdk(SpotifyApi, { proxyPrefix: '/spotify' })
const first = await browserSdk.currentUser.playlists.playlists(20)
expectType<Page<SimplifiedPlaylist> | null>(await nextPage(browserSdk, first))
