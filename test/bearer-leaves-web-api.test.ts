import t from 'tap'
import { build } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

// An attack: a URL the app got from outside (a crafted `next` link, a
// parameter) given to request.spotify.api must not carry the user's bearer
// to another host, nor out of /v1/ on the Web API's own host.
t.test('request.spotify.api sends the bearer only under {apiUrl}/v1/', async (t) => {
  const seen: Array<string | undefined> = []
  const evil = await fakeUpstream(t, (app) => {
    app.all('/*', async (request, reply) => {
      seen.push(request.headers.authorization)
      return reply.code(401).send({ error: { status: 401, message: 'steal' } })
    })
  })
  let apiUrl = ''
  const { login, request, emulator } = await build(t, {
    before (app) {
      app.post('/call', async (request, reply) => {
        const { how, url } = request.body as { how: string, url: string }
        const api = request.spotify.api
        try {
          const body = how === 'prefix'
            ? await api.get(url, { prefixUrl: '' }).json()
            : how === 'options'
              ? await api({ url }).json()
              : how === 'emptyPrefix'
                ? await api.get('x', { prefixUrl: url }).json()
                : await api.get(url).json()
          return { ok: body }
        } catch (err) {
          return reply.code(299).send({ code: (err as { code?: string }).code })
        }
      })
    }
  })
  apiUrl = emulator.url
  const { jar } = await login()
  emulator.control.resetCounters()
  const attempts: Array<[string, string]> = [
    ['plain', `${evil}/x`],
    ['prefix', `${evil}/v1/me`],
    ['options', `${evil}/v1/me`],
    ['emptyPrefix', `${evil}/v1/`],
    ['plain', '../me'],
    ['plain', '%2e%2e/me'],
    ['plain', '..%2fme'],
    ['plain', 'x/..%5c..%5cme'],
    ['plain', '%252e%252e/me'],
    ['prefix', `${apiUrl}/v1/../me`],
    ['prefix', `${apiUrl}/me`],
    ['prefix', `${apiUrl.replace('http://', 'http://user:pw@')}/v1/me`]
  ]
  for (const [how, url] of attempts) {
    const response = await request(jar, { method: 'POST', url: '/call', payload: { how, url } })
    t.same(response.json(), { code: 'FST_SPOTIFY_FOREIGN_URL' }, `${how} ${url}`)
  }
  t.same(seen, [], 'the foreign server saw no request at all')
  t.equal(emulator.control.counters.api, 0, 'nor did the Web API outside /v1/')
  t.equal(emulator.control.counters.refresh_token, 0, 'and nothing forced a refresh')

  const absolute = await request(jar, { method: 'POST', url: '/call', payload: { how: 'prefix', url: `${apiUrl}/v1/me` } })
  t.type(absolute.json().ok.id, 'string', 'an absolute URL under {apiUrl}/v1/ (a next link) works')
})
