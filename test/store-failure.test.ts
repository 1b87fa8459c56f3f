import t from 'tap'
import { memoryStore, type TokenStore } from '../plugin/index.js'
import { build, CookieJar } from './helpers/build.js'

/** A store that works until `down` is set, then fails every call like an unreachable database. */
function flakyStore (): TokenStore & { down: boolean } {
  const inner = memoryStore()
  const store = {
    down: false,
    async get (id: string) { if (store.down) throw new Error('ECONNREFUSED'); return await inner.get(id) },
    async set (id: string, token: Parameters<TokenStore['set']>[1]) { if (store.down) throw new Error('ECONNREFUSED'); await inner.set(id, token) },
    async update (id: string, previous: Parameters<TokenStore['update']>[1], next: Parameters<TokenStore['update']>[2]) {
      if (store.down) throw new Error('ECONNREFUSED')
      return await inner.update(id, previous, next)
    },
    async delete (id: string) { if (store.down) throw new Error('ECONNREFUSED'); await inner.delete(id) }
  }
  return store
}

t.test('a failing store answers 503 everywhere, keeps the cookie, and recovers', async (t) => {
  const store = flakyStore()
  const { login, request } = await build(t, { plugin: { store } })
  const { jar } = await login()
  store.down = true
  const proxied = await request(jar, { url: '/spotify/me' })
  t.equal(proxied.statusCode, 503)
  t.same(proxied.json(), { error: { status: 503, message: 'The session store is unavailable', code: 'FST_SPOTIFY_STORE_UNAVAILABLE' } })
  t.notMatch(proxied.body, /ECONNREFUSED/)
  const logout = await request(jar, { method: 'POST', url: '/logout' })
  t.equal(logout.statusCode, 503)
  t.ok(jar.cookies.has('spotify_session'), 'the cookie stays so that logout can be tried again')
  const failedLogin = await login(new CookieJar())
  t.equal(failedLogin.callback.statusCode, 503)
  t.notOk(failedLogin.jar.cookies.has('spotify_session'))
  store.down = false
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200, 'service resumes by itself')
})

t.test('a store that throws synchronously answers 503 too', async (t) => {
  const inner = memoryStore()
  let broken = false
  const store: TokenStore = {
    get (id) {
      if (broken) throw new Error('not even a promise')
      return inner.get(id)
    },
    set: (id, token) => inner.set(id, token),
    update: (id, previous, next) => inner.update(id, previous, next),
    delete: (id) => inner.delete(id)
  }
  const { login, request } = await build(t, {
    plugin: { store },
    before (app) {
      app.get('/private', { onRequest: app.spotify.authenticate }, async () => 'ok')
    }
  })
  const { jar } = await login()
  broken = true
  for (const url of ['/spotify/me', '/private']) {
    const response = await request(jar, { url })
    t.equal(response.statusCode, 503, url)
    t.equal(response.json().code ?? response.json().error.code, 'FST_SPOTIFY_STORE_UNAVAILABLE', url)
  }
})
