import { request as httpRequest } from 'node:http'
import { gzipSync } from 'node:zlib'
import Fastify from 'fastify'
import t from 'tap'
import spotifyAuth from '../plugin/index.js'
import { createSpotifyEmulator } from '../plugin/emulator/index.js'
import { build, CLIENT_ID, CLIENT_SECRET, CookieJar, SECRET } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

interface Page {
  href: string
  next: string | null
  previous: string | null
  items: Array<{ href: string, external_urls: { spotify: string }, images: Array<{ url: string }>, owner: { href: string }, items: { href: string } }>
}

t.test('next, previous and every href of a page point at the proxy; other links stay as they were', async (t) => {
  const { login, request, emulator } = await build(t)
  const { jar } = await login()
  const first = (await request(jar, { url: '/spotify/me/playlists?limit=2' })).json<Page>()
  t.equal(first.href, '/spotify/me/playlists?offset=0&limit=2')
  t.equal(first.next, '/spotify/me/playlists?offset=2&limit=2')
  t.equal(first.previous, null)
  const playlist = first.items[0]!
  t.match(playlist.href, /^\/spotify\/playlists\/\w+$/)
  t.equal(playlist.owner.href, '/spotify/users/alice')
  t.equal(playlist.items.href, `${playlist.href}/items`)
  t.match(playlist.external_urls.spotify, /^https:\/\/open\.spotify\.com\/playlist\//, 'external_urls untouched')
  t.ok(playlist.images[0]!.url.startsWith(`${emulator.url}/images/`), 'images untouched')

  // Following the links, as a page would.
  const second = (await request(jar, { url: first.next! })).json<Page>()
  t.equal(second.previous, '/spotify/me/playlists?offset=0&limit=2')
  t.equal(second.href, first.next)
  const followed = await request(jar, { url: playlist.items.href })
  t.equal(followed.statusCode, 200)
})

t.test('the length is that of the rewritten body, for GET and HEAD', async (t) => {
  const { app, login, request, emulator } = await build(t)
  const { jar } = await login()
  const get = await request(jar, { url: '/spotify/me/playlists?limit=3' })
  t.ok(get.body.includes('"next":"/spotify/'))
  t.equal(get.headers['content-length'], String(get.rawPayload.length))
  emulator.control.clearApiRequests()
  // A real HEAD over a socket: the length of the GET, and no body.
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const head = await new Promise<{ length: string | undefined, body: string }>((resolve, reject) => {
    httpRequest(`${address}/spotify/me/playlists?limit=3`, { method: 'HEAD', headers: { cookie: jar.header } }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => { body += String(chunk) })
      res.on('end', () => { resolve({ length: res.headers['content-length'], body }) })
    }).on('error', reject).end()
  })
  t.equal(head.length, get.headers['content-length'])
  t.equal(head.body, '')
  t.equal(emulator.control.apiRequests.at(-1)?.method, 'GET', 'asked as a GET, to measure the rewritten body')
})

t.test('proxyRewriteLinks: false passes bodies and HEAD untouched', async (t) => {
  const { login, request, emulator } = await build(t, { plugin: { proxyRewriteLinks: false } })
  const { jar } = await login()
  const page = (await request(jar, { url: '/spotify/me/playlists?limit=2' })).json<Page>()
  t.equal(page.next, `${emulator.url}/v1/me/playlists?offset=2&limit=2`)
  t.equal(page.items[0]!.owner.href, `${emulator.url}/v1/users/alice`)
  emulator.control.clearApiRequests()
  const head = await request(jar, { method: 'HEAD', url: '/spotify/me' })
  t.equal(head.statusCode, 200)
  t.equal(emulator.control.apiRequests.at(-1)?.method, 'HEAD')
})

t.test('only the links of identity-encoded JSON are rewritten, and only under {apiUrl}/v1/', async (t) => {
  let upstream = ''
  const json = (): string => JSON.stringify({
    // Pretty-printed, as Spotify sends it, with foreign links and text that mentions links.
    next: `${upstream}/v1/me/playlists?offset=2`,
    previous: `${upstream}/v2/other`,
    href: 'https://api.spotify.com.evil.example/v1/me',
    description: `see "href":"${upstream}/v1/x" and ${upstream}/v1/y`,
    name: `${upstream}/v1/z`,
    title: 'Björk — 東京 🎵',
    items: [{ href: 7 }, { href: null }, { href: 'ESCAPED' }, { xhref: `${upstream}/v1/w` }],
    links: [`${upstream}/v1/in-array`]
  }, null, 1)
    .replace('"next": "', '"next" :\n  "')
    .replace('"ESCAPED"', JSON.stringify(`${upstream}/v1/escaped`).replaceAll('/', '\\/'))
  upstream = await fakeUpstream(t, (app) => {
    app.get('/v1/json', async (_request, reply) => reply.type('application/json').send(json()))
    app.get('/v1/vendor-json', async (_request, reply) => reply.type('application/vnd.example+json; charset=utf-8').send(`{"next":"${upstream}/v1/a"}`))
    app.get('/v1/text', async (_request, reply) => reply.type('text/plain').send(`{"next":"${upstream}/v1/a"}`))
    app.get('/v1/none', async (_request, reply) => {
      reply.hijack()
      reply.raw.writeHead(200, { 'content-length': String(Buffer.byteLength(`{"next":"${upstream}/v1/a"}`)) })
      reply.raw.end(`{"next":"${upstream}/v1/a"}`)
    })
    app.get('/v1/gzip', async (_request, reply) => reply.type('application/json').header('content-encoding', 'gzip').send(gzipSync(`{"next":"${upstream}/v1/a"}`)))
    app.get('/v1/identity', async (_request, reply) => reply.type('application/json').header('content-encoding', 'identity').send(`{"next":"${upstream}/v1/a"}`))
    app.get('/v1/nolinks', async (_request, reply) => reply.type('application/json').send(`{"next":"${upstream}/v1/a","other":"${upstream}/v1/b"}`.replace(`"next":"${upstream}/v1/a",`, '')))
  })
  const { login, request } = await build(t, { plugin: { apiUrl: upstream } })
  const { jar } = await login()

  const rewritten = await request(jar, { url: '/spotify/json' })
  const body = rewritten.json()
  t.equal(body.next, '/spotify/me/playlists?offset=2', 'spaces and a line break around the colon')
  t.equal(body.previous, `${upstream}/v2/other`, 'not under /v1/')
  t.equal(body.href, 'https://api.spotify.com.evil.example/v1/me', 'another origin')
  t.equal(body.description, `see "href":"${upstream}/v1/x" and ${upstream}/v1/y`, 'text inside a string')
  t.equal(body.name, `${upstream}/v1/z`, 'another member')
  t.equal(body.title, 'Björk — 東京 🎵', 'UTF-8 text byte for byte')
  t.same(body.links, [`${upstream}/v1/in-array`], 'not a member\'s value')
  t.same(body.items, [{ href: 7 }, { href: null }, { href: `${upstream}/v1/escaped` }, { xhref: `${upstream}/v1/w` }],
    'non-string members, a link written with \\/ (the Web API never does), another member name')
  t.equal(rewritten.headers['content-length'], String(rewritten.rawPayload.length))

  t.equal((await request(jar, { url: '/spotify/vendor-json' })).json().next, '/spotify/a', '+json')
  t.equal((await request(jar, { url: '/spotify/identity' })).json().next, '/spotify/a', 'identity encoding')
  t.equal((await request(jar, { url: '/spotify/text' })).body, `{"next":"${upstream}/v1/a"}`, 'text/plain untouched')
  t.equal((await request(jar, { url: '/spotify/none' })).body, `{"next":"${upstream}/v1/a"}`, 'no content type: untouched')
  const gzip = await request(jar, { url: '/spotify/gzip' })
  t.same(gzip.rawPayload, gzipSync(`{"next":"${upstream}/v1/a"}`), 'compressed bytes untouched')
  t.same((await request(jar, { url: '/spotify/me' })).json(), { id: 'alice', display_name: 'Alice' }, 'JSON without any link')
  t.equal((await request(jar, { url: '/spotify/nolinks' })).body, `{"other":"${upstream}/v1/b"}`)
})

t.test('links of a response past proxyResponseLimit are never read: 502 as before', async (t) => {
  let upstream = ''
  upstream = await fakeUpstream(t, (app) => {
    app.get('/v1/big', async (_request, reply) => reply.type('application/json').send(JSON.stringify({ next: `${upstream}/v1/a`, pad: 'x'.repeat(2000) })))
  })
  const { login, request } = await build(t, { plugin: { apiUrl: upstream, proxyResponseLimit: 1000 } })
  const { jar } = await login()
  const response = await request(jar, { url: '/spotify/big' })
  t.equal(response.statusCode, 502)
  t.equal(response.json().error.code, 'FST_SPOTIFY_UPSTREAM_TOO_LARGE')
})

t.test('a proxy inside a prefixed scope rewrites to its full path', async (t) => {
  const redirectUri = 'http://127.0.0.1:5543/auth/callback'
  const emulator = await createSpotifyEmulator({ autoApprove: true, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [redirectUri] }] })
  t.teardown(() => emulator.close())
  const app = Fastify()
  await app.register(async (auth) => {
    await auth.register(spotifyAuth, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, secret: SECRET, accountsUrl: emulator.url, apiUrl: emulator.url, redirectUri })
  }, { prefix: '/auth' })
  t.teardown(() => app.close())
  const jar = new CookieJar()
  const start = await app.inject({ url: '/auth/login' })
  jar.take(start)
  const back = new URL((await fetch(start.headers.location as string, { redirect: 'manual' })).headers.get('location') as string)
  jar.take(await app.inject({ url: back.pathname + back.search, headers: { cookie: jar.header } }))
  const page = (await app.inject({ url: '/auth/spotify/me/playlists?limit=2', headers: { cookie: jar.header } })).json<Page>()
  t.equal(page.next, '/auth/spotify/me/playlists?offset=2&limit=2')
})

t.test('a partial answer (206) is passed byte for byte: its Content-Range counts the upstream\'s bytes', async (t) => {
  let upstream = ''
  const whole = (): string => `{"next":"${upstream}/v1/a","pad":"${'x'.repeat(40)}"}`
  upstream = await fakeUpstream(t, (app) => {
    app.get('/v1/ranged', async (request, reply) => {
      const end = Number(/^bytes=0-(\d+)$/.exec(String(request.headers.range))?.[1])
      const part = Buffer.from(whole()).subarray(0, end + 1)
      return await reply.code(206).type('application/json')
        .header('content-range', `bytes 0-${end}/${Buffer.byteLength(whole())}`).send(part)
    })
  })
  const { login, request } = await build(t, { plugin: { apiUrl: upstream } })
  const { jar } = await login()
  const response = await request(jar, { url: '/spotify/ranged', headers: { range: 'bytes=0-49' } })
  t.equal(response.statusCode, 206)
  t.equal(response.headers['content-range'], `bytes 0-49/${Buffer.byteLength(whole())}`)
  t.same(response.rawPayload, Buffer.from(whole()).subarray(0, 50), 'the very bytes the range names')
})
