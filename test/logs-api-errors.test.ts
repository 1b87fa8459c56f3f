import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { inspect } from 'node:util'
import t from 'tap'
import { build } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

// An attack on the logs: every kind of error got can make from
// request.spotify.api, left to Fastify's default error handler (which logs
// the error object), must carry neither the bearer nor the session id.
t.test('no error of request.spotify.api carries the bearer or the session id', async (t) => {
  const upstream = await fakeUpstream(t, (app) => {
    app.get('/v1/text', async (_request, reply) => reply.type('application/json').send('not json at all'))
    app.get('/v1/missing', async (_request, reply) => reply.code(404).send({ error: { status: 404, message: 'Not found.' } }))
    app.get('/v1/slow', async () => await new Promise(() => {}))
    app.get('/v1/truncated', async (_request, reply) => {
      reply.hijack()
      reply.raw.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
      reply.raw.write('{"items": [')
      setImmediate(() => reply.raw.destroy())
    })
    app.get('/v1/paged', async (_request, reply) => reply.type('application/json').send('{"items": [1], "next": '))
  })
  const errors: unknown[] = []
  const { login, request, logs, app } = await build(t, {
    plugin: { apiUrl: upstream, timeout: 300, retry: { limit: 0 } },
    before (app) {
      app.addHook('onError', async (_request, _reply, error) => { errors.push(error) })
      app.get('/parse', async (request) => await request.spotify.api.get('text').json())
      app.get('/http', async (request) => await request.spotify.api.get('missing').json())
      app.get('/timeout', async (request) => await request.spotify.api.get('slow').text())
      app.get('/read', async (request) => await request.spotify.api.get('truncated').buffer())
      app.get('/cancel', async (request) => {
        const pending = request.spotify.api.get('slow')
        setImmediate(() => pending.cancel())
        return await pending
      })
      app.get('/stream', async (request) => {
        await pipeline(request.spotify.api.stream('missing'), new Writable({ write (_c, _e, done) { done() } }))
      })
      app.get('/paginate', async (request) => await request.spotify.api.paginate.all('paged'))
    }
  })
  const { jar } = await login()
  const sessionId = (jar.cookies.get('spotify_session') as string).split('.')[0] as string
  const accessToken = (await app.spotify.session(sessionId).getToken())?.accessToken as string
  const names = new Set<string>()
  for (const url of ['/parse', '/http', '/timeout', '/read', '/cancel', '/stream', '/paginate']) {
    const response = await request(jar, { url })
    t.ok(response.statusCode >= 400, `${url} failed (${response.statusCode})`)
  }
  for (const error of errors) names.add((error as Error).name)
  // A body that breaks off (/read) is the call policy's 502, a FastifyError:
  // got receives whole answers, so its ReadError cannot happen any more.
  for (const name of ['CancelError', 'FastifyError', 'HTTPError', 'ParseError']) t.ok(names.has(name), `${name} seen`)
  const text = logs.join('')
  t.ok(text.includes('ParseError'), 'the errors were logged')
  for (const secret of [accessToken, sessionId]) {
    t.notOk(text.includes(secret), 'not in the log')
    for (const error of errors) {
      t.notOk(JSON.stringify(error).includes(secret), `not in ${(error as Error).name} as JSON`)
      t.notOk(inspect(error, { depth: 4 }).includes(secret), `not in ${(error as Error).name} as inspected`)
    }
  }
})
