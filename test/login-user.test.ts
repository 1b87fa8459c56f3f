import t from 'tap'
import { memoryStore } from '../plugin/index.js'
import { build } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

t.test('login learns the Spotify user: token.userId, and onLogin gets the /me body', async (t) => {
  const seen: Array<{ sessionId: string, userId: string, id: string, name: unknown }> = []
  const { login, app } = await build(t, {
    plugin: {
      onLogin (_request, { sessionId, token, user }) {
        seen.push({ sessionId, userId: token.userId, id: user.id, name: user.display_name })
      }
    }
  })
  const { jar } = await login()
  t.equal(seen.length, 1)
  t.equal(seen[0]?.userId, 'alice')
  t.equal(seen[0]?.id, 'alice')
  t.type(seen[0]?.name, 'string')
  const id = (jar.cookies.get('spotify_session') as string).split('.')[0] as string
  t.equal((await app.spotify.store.get(id))?.userId, 'alice', 'stored with the token')
  const refreshed = await app.spotify.session(id).refresh()
  t.equal(refreshed?.userId, 'alice', 'and kept across refreshes')
})

t.test('a failing /me fails the login (502, 504) and stores nothing', async (t) => {
  const store = memoryStore()
  const { login, emulator, app } = await build(t, { plugin: { store, timeout: 300, retry: { limit: 0 } } })
  const sets: string[] = []
  const set = store.set.bind(store)
  store.set = async (id, token) => { sets.push(id); await set(id, token) }

  emulator.control.failApiCalls(1, 503)
  const failed = await login()
  t.equal(failed.callback.statusCode, 502)
  t.equal(failed.callback.json().error.code, 'FST_SPOTIFY_UPSTREAM_ERROR')
  t.notOk(failed.jar.cookies.has('spotify_session'))

  emulator.control.hangApiCalls(1)
  const slow = await login()
  t.equal(slow.callback.statusCode, 504)

  emulator.control.unauthorizeApiCalls(1)
  const unauthorized = await login()
  t.equal(unauthorized.callback.statusCode, 502, 'a 401 to the token just issued is not retried with another')
  t.match(unauthorized.callback.json().error.message, /GET \/v1\/me answered 401/)

  emulator.control.disallowUser('alice')
  const refused = await login()
  t.equal(refused.callback.statusCode, 502, 'a user off the allow-list: Spotify answers /me with 403')
  t.match(refused.callback.json().error.message, /GET \/v1\/me answered 403/)
  t.same(sets, [], 'nothing was stored')
  t.equal((await app.inject('/spotify/me')).statusCode, 401)
})

t.test('a /me that names no user fails the login', async (t) => {
  const api = await fakeUpstream(t, (app) => { app.get('/v1/me', async () => ({ display_name: 'nobody' })) })
  const { login } = await build(t, { plugin: { apiUrl: api } })
  const { callback } = await login()
  t.equal(callback.statusCode, 502)
  t.match(callback.json().error.message, /named no user/)
})

t.test('a /me that answers 2xx with no JSON object (a maintenance page) fails the login with 502 and stores nothing', async (t) => {
  const store = memoryStore()
  const sets: string[] = []
  const set = store.set.bind(store)
  store.set = async (id, token) => { sets.push(id); await set(id, token) }
  const answers = [['text/html', '<html>Down for maintenance</html>'], ['application/json', 'null']]
  const api = await fakeUpstream(t, (app) => {
    app.get('/v1/me', async (_request, reply) => {
      const [type, body] = answers.shift() as [string, string]
      return reply.type(type).send(body)
    })
  })
  const { login } = await build(t, { plugin: { apiUrl: api, store } })
  for (const what of ['a page', 'JSON null']) {
    const { callback, jar } = await login()
    t.equal(callback.statusCode, 502, what)
    t.equal(callback.json().error.code, 'FST_SPOTIFY_UPSTREAM_ERROR')
    t.match(callback.json().error.message, /GET \/v1\/me answered no JSON object/)
    t.notOk(jar.cookies.has('spotify_session'))
  }
  t.same(sets, [], 'nothing was stored')
})
