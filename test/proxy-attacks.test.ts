import { request as httpRequest } from 'node:http'
import t from 'tap'
import { build, REDIRECT_URI } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

const APP_ORIGIN = new URL(REDIRECT_URI).origin

/** An upstream that counts calls and answers with `size` bytes, announced or chunked. */
async function sizedUpstream (t: Parameters<typeof fakeUpstream>[0]) {
  const calls: Array<{ method: string, length: number }> = []
  const url = await fakeUpstream(t, (app) => {
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 10 * 1024 * 1024 }, (_request, body, done) => { done(null, body) })
    app.all('/v1/*', async (request, reply) => {
      calls.push({ method: request.method, length: (request.body as Buffer | undefined)?.length ?? 0 })
      const size = Number((request.query as { size?: string }).size ?? 2)
      const body = Buffer.alloc(size, 'a')
      if ((request.query as { chunked?: string }).chunked === '1') {
        reply.hijack()
        reply.raw.writeHead(200, { 'content-type': 'text/html' })
        for (let sent = 0; sent < size; sent += 65536) reply.raw.write(body.subarray(sent, sent + 65536))
        reply.raw.end()
        return reply
      }
      return reply.type('text/html').send(body)
    })
  })
  return { url, calls }
}

/** A raw request that sends its headers and announces a body it never sends. */
function announceBody (url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const pending = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(1024 * 1024) } })
    pending.on('response', (response) => {
      response.resume()
      resolve(response.statusCode as number)
      pending.destroy()
    })
    pending.on('error', reject)
    pending.flushHeaders()
  })
}

t.test('the proxy answers before reading a body it will refuse', async (t) => {
  const upstream = await sizedUpstream(t)
  const { app, login } = await build(t, { plugin: { apiUrl: upstream.url } })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.equal(await announceBody(`${url}/spotify/me/playlists`, {}), 401, 'no session: 401 while the body is still unsent')
  t.equal(await announceBody(`${url}/spotify/me//playlists`, {}), 400, 'a bad path: 400 the same way')
  const { jar } = await login()
  t.equal(await announceBody(`${url}/spotify/me/playlists`, { cookie: jar.header, origin: 'http://127.0.0.1:6666' }), 403, 'cross-site: 403 the same way')
  t.same(upstream.calls, [])
})

t.test('the proxy has a body limit of its own, sized for a playlist cover', async (t) => {
  const upstream = await sizedUpstream(t)
  const { login, request } = await build(t, { plugin: { apiUrl: upstream.url } })
  const { jar } = await login()
  const cover = await request(jar, { method: 'PUT', url: '/spotify/playlists/x/images', headers: { 'content-type': 'image/jpeg' }, payload: Buffer.alloc(349_528, 'A') })
  t.equal(cover.statusCode, 200, 'a 256 KB JPEG in base64 goes through')
  const tooLarge = await request(jar, { method: 'PUT', url: '/spotify/playlists/x/images', headers: { 'content-type': 'image/jpeg' }, payload: Buffer.alloc(400 * 1024, 'A') })
  t.equal(tooLarge.statusCode, 413)
  t.same(upstream.calls.map((c) => c.length), [349_528])
})

t.test('unsafe methods from another origin are refused; safe ones and servers go through', async (t) => {
  const upstream = await sizedUpstream(t)
  const { login, request } = await build(t, { plugin: { apiUrl: upstream.url, trustedOrigins: ['https://spa.example'] } })
  const { jar } = await login()
  const refused: Array<Record<string, string>> = [
    { origin: 'http://127.0.0.1:6666' }, // another port of the same host: same-site, so Lax sends the cookie
    { origin: 'null' },
    { origin: 'null', 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site' },
    { 'sec-fetch-site': 'cross-site' }
  ]
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    for (const headers of refused) {
      const response = await request(jar, { method, url: '/spotify/me/playlists', headers: { ...headers, 'content-type': 'text/plain' }, payload: '{}' })
      t.equal(response.statusCode, 403, `${method} ${JSON.stringify(headers)}`)
      t.equal(response.json().error.code, 'FST_SPOTIFY_CROSS_SITE')
    }
  }
  t.equal(upstream.calls.length, 0, 'none reached the Web API')
  const allowed: Array<Record<string, string>> = [
    { origin: APP_ORIGIN, 'sec-fetch-site': 'same-origin' },
    { 'sec-fetch-site': 'same-origin' },
    { origin: 'null', 'sec-fetch-site': 'same-origin' }, // a no-referrer page's own form
    { origin: 'https://spa.example', 'sec-fetch-site': 'cross-site' },
    {}
  ]
  for (const headers of allowed) {
    const response = await request(jar, { method: 'POST', url: '/spotify/me/playlists', headers: { ...headers, 'content-type': 'application/json' }, payload: '{}' })
    t.equal(response.statusCode, 200, `allowed: ${JSON.stringify(headers)}`)
  }
  const read = await request(jar, { url: '/spotify/me', headers: { origin: 'http://127.0.0.1:6666', 'sec-fetch-site': 'same-site' } })
  t.equal(read.statusCode, 200, 'a GET from anywhere reads (the browser keeps the answer from a foreign page)')
})

t.test('upstream responses past proxyResponseLimit are not buffered: 502', async (t) => {
  const upstream = await sizedUpstream(t)
  const { login, request } = await build(t, { plugin: { apiUrl: upstream.url, proxyResponseLimit: 1024 * 1024 } })
  const { jar } = await login()
  for (const chunked of ['0', '1']) {
    const response = await request(jar, { url: `/spotify/big?size=${2 * 1024 * 1024}&chunked=${chunked}` })
    t.equal(response.statusCode, 502, chunked === '1' ? 'counted while read' : 'announced')
    t.equal(response.json().error.code, 'FST_SPOTIFY_UPSTREAM_TOO_LARGE')
  }
  t.equal((await request(jar, { url: `/spotify/big?size=${1024 * 1024}&chunked=1` })).statusCode, 200, 'up to the limit is fine')
})

t.test('an upstream that breaks off its response answers 502', async (t) => {
  const url = await fakeUpstream(t, (app) => {
    app.get('/v1/broken', async (_request, reply) => {
      reply.hijack()
      reply.raw.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
      reply.raw.write('{"items": [')
      setImmediate(() => reply.raw.destroy())
    })
  })
  const { login, request } = await build(t, { plugin: { apiUrl: url } })
  const { jar } = await login()
  const response = await request(jar, { url: '/spotify/broken' })
  t.equal(response.statusCode, 502)
  t.equal(response.json().error.code, 'FST_SPOTIFY_UPSTREAM_ERROR')
})

t.test('proxied responses can be neither sniffed nor run as the app\'s pages', async (t) => {
  const upstream = await sizedUpstream(t)
  const { login, request } = await build(t, { plugin: { apiUrl: upstream.url } })
  const { jar } = await login()
  const response = await request(jar, { url: '/spotify/page?size=20' })
  t.equal(response.headers['content-type'], 'text/html', 'the upstream\'s type')
  t.equal(response.headers['x-content-type-options'], 'nosniff')
  t.match(response.headers['content-security-policy'], /default-src 'none'.*sandbox/)
})
