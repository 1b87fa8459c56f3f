import t from 'tap'
import { build } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'
import { sessionIdOf } from './helpers/sessions.js'

// RFC 9110 §7.6.1: the headers a message names in `Connection` are for one
// hop only. A client naming the proxy's own headers there must not make it
// drop them (the bearer, its own answer's headers), and what it names, or
// what is hop-by-hop anyway, must not be passed on, in either direction.
t.test('a request naming headers in Connection cannot drop the proxy\'s own or pass hop-by-hop ones on', async (t) => {
  const { login, request, emulator, app } = await build(t)
  const { jar } = await login()
  emulator.control.clearApiRequests()
  const response = await request(jar, {
    url: '/spotify/me',
    headers: {
      connection: 'keep-alive, Authorization, cookie, x-forwarded-for, accept-language, if-none-match, te, upgrade, proxy-authorization',
      authorization: 'Bearer client-supplied',
      'x-forwarded-for': '10.0.0.1',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      upgrade: 'h2c',
      'proxy-authorization': 'Basic abc',
      'proxy-connection': 'keep-alive',
      'accept-language': 'fr',
      'if-none-match': '"abc"',
      accept: 'application/json'
    }
  })
  t.equal(response.statusCode, 200)
  const headers = emulator.control.apiRequests.at(-1)?.headers ?? {}
  const stored = await app.spotify.store.get(sessionIdOf(jar))
  t.equal(headers.authorization, `Bearer ${stored?.accessToken}`, 'the session\'s bearer, named or not')
  for (const name of ['cookie', 'x-forwarded-for', 'keep-alive', 'te', 'upgrade', 'proxy-authorization', 'proxy-connection']) {
    t.equal(headers[name], undefined, `${name} stays behind`)
  }
  t.equal(headers['accept-language'], undefined, 'named in Connection: for this hop only')
  t.equal(headers['if-none-match'], undefined, 'named in Connection: for this hop only')
  t.equal(headers.accept, 'application/json', 'what Connection does not name goes on')

  emulator.control.clearApiRequests()
  for (const connection of ['keep-alive', 'Keep-Alive', 'close']) {
    await request(jar, { url: '/spotify/me', headers: { connection, 'accept-language': 'fr' } })
    t.equal(emulator.control.apiRequests.at(-1)?.headers['accept-language'], 'fr', `Connection: ${connection} names nothing`)
  }
})

t.test('an upstream answer naming headers in Connection (in two header lines) passes none of them, nor any hop-by-hop header, back', async (t) => {
  const upstream = await fakeUpstream(t, (app) => {
    app.get('/v1/hop', async (_request, reply) => {
      reply.hijack()
      reply.raw.writeHead(200, [
        ['connection', 'keep-alive, x-content-type-options'],
        ['connection', 'ETag'],
        ['keep-alive', 'timeout=5'],
        ['proxy-authenticate', 'Basic realm="x"'],
        ['content-type', 'application/json'],
        ['etag', '"hop"'],
        ['cache-control', 'private, max-age=0'],
        ['x-content-type-options', 'sniff-away']
      ])
      reply.raw.end('{"ok":true}')
    })
  })
  const { login, request } = await build(t, { plugin: { apiUrl: upstream } })
  const { jar } = await login()
  const response = await request(jar, { url: '/spotify/hop' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { ok: true })
  t.equal(response.headers.etag, undefined, 'named in Connection: for that hop only')
  t.equal(response.headers['cache-control'], 'private, max-age=0', 'what Connection does not name comes back')
  t.equal(response.headers['keep-alive'], undefined)
  t.equal(response.headers['proxy-authenticate'], undefined)
  t.equal(response.headers['x-content-type-options'], 'nosniff', 'the proxy\'s own header stays')
})
