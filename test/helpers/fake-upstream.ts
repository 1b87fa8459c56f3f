import Fastify, { type FastifyInstance } from 'fastify'

interface Teardown { teardown (fn: () => unknown): void }

/**
 * A stand-in upstream on 127.0.0.1 for the few answers the emulator never
 * gives (garbage bodies, a missing refresh token, redirects). It accepts
 * form bodies like Spotify's token endpoint does, and answers `GET /v1/me`
 * for alice unless the test routes it.
 */
export async function fakeUpstream (t: Teardown, routes: (app: FastifyInstance) => void): Promise<string> {
  const app = Fastify()
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  routes(app)
  // Logins call GET /v1/me to learn whose token it is: as the Web API, a
  // stand-in answers for alice unless the test says otherwise.
  if (!app.hasRoute({ method: 'GET', url: '/v1/me' })) app.get('/v1/me', async () => ({ id: 'alice', display_name: 'Alice' }))
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return url
}
