// The app under test: a factory that takes where Spotify is, so that tests
// can hand it the emulator. Production calls it with Spotify's own URLs.
import Fastify, { type FastifyInstance } from 'fastify'
import spotifyAuth from 'fastify-spotify-auth'

export interface AppOptions {
  clientId: string
  clientSecret: string
  redirectUri: string
  secret: string
  /** Spotify's own unless given: the tests pass the emulator's URL. */
  accountsUrl?: string
  apiUrl?: string
}

export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(spotifyAuth, { ...options, scopes: ['playlist-read-private'] })
  app.get('/playlists', { onRequest: app.spotify.authenticate }, async (request) => {
    const page = await request.spotify.api.get('me/playlists').json<{ items: Array<{ name: string }> }>()
    return page.items.map((playlist) => playlist.name)
  })
  return app
}
