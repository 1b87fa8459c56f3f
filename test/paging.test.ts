import t from 'tap'
import { build } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

t.test('api.paginate follows Spotify\'s next links across every page', async (t) => {
  const { app, login, emulator } = await build(t, {
    before (app) {
      app.get('/all', async (request) => await request.spotify.api.paginate.all<{ id: string }>('me/playlists', { searchParams: { limit: 2 } }))
      app.get('/first', async (request) => await request.spotify.api.get('me/playlists', { searchParams: { limit: 50 } }).json<{ total: number, items: Array<{ id: string }> }>())
    }
  })
  const { jar } = await login()
  const first = (await app.inject({ url: '/first', headers: { cookie: jar.header } })).json()
  emulator.control.resetCounters()
  emulator.control.clearApiRequests()
  const all = (await app.inject({ url: '/all', headers: { cookie: jar.header } })).json()
  t.ok(first.total > 4, `${first.total} playlists: more than two pages of 2`)
  t.same(all.map((p: { id: string }) => p.id), first.items.map((p: { id: string }) => p.id), 'every item, in order')
  t.equal(emulator.control.counters.api, Math.ceil(first.total / 2), 'one request per page')
  const offsets = emulator.control.apiRequests.map((r) => new URLSearchParams(r.query).get('offset') ?? '0')
  t.same(offsets, Array.from({ length: Math.ceil(first.total / 2) }, (_, i) => String(i * 2)), 'each page asked once, limit kept by the next link')
})

t.test('the app client pages a search (the paging object under its type)', async (t) => {
  const { app } = await build(t)
  const items = await app.spotify.app.api.paginate.all<{ type: string }>('search', { searchParams: { q: 'a', type: 'track', limit: 2 } })
  const first = await app.spotify.app.api.get('search', { searchParams: { q: 'a', type: 'track', limit: 2 } }).json<{ tracks: { total: number } }>()
  t.ok(first.tracks.total > 4)
  t.equal(items.length, first.tracks.total)
  t.ok(items.every((item) => item.type === 'track'))
})

t.test('a next link outside {apiUrl}/v1/ is never followed with the bearer', async (t) => {
  const seen: string[] = []
  const evil = await fakeUpstream(t, (app) => {
    app.get('/*', async (request) => { seen.push(String(request.headers.authorization)); return { items: [], next: null } })
  })
  const api = await fakeUpstream(t, (app) => {
    app.get('/v1/me/playlists', async () => ({ items: [{ id: 'a' }], next: `${evil}/v1/me/playlists?offset=1` }))
  })
  const { login, app } = await build(t, {
    plugin: { apiUrl: api },
    before (app) {
      app.get('/all', async (request, reply) => {
        try {
          return await request.spotify.api.paginate.all('me/playlists')
        } catch (err) {
          return reply.code(299).send({ code: (err as { code: string }).code })
        }
      })
    }
  })
  const { jar } = await login()
  const response = await app.inject({ url: '/all', headers: { cookie: jar.header } })
  t.same(response.json(), { code: 'FST_SPOTIFY_FOREIGN_URL' })
  t.same(seen, [])
})

t.test('a response that is no paging object yields nothing', async (t) => {
  const api = await fakeUpstream(t, (app) => {
    app.get('/v1/odd', async () => ({ a: { items: [1] }, b: { items: [2] } }))
  })
  const { login, app } = await build(t, {
    plugin: { apiUrl: api },
    before (app) { app.get('/odd', async (request) => await request.spotify.api.paginate.all('odd')) }
  })
  const { jar } = await login()
  t.same((await app.inject({ url: '/odd', headers: { cookie: jar.header } })).json(), [], 'two paging objects: ambiguous, none is followed')
})
