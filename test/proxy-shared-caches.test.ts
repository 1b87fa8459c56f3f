import t from 'tap'
import { privateCacheControl, varyWithCookie, weakened } from '../plugin/routes/proxy-caching.js'
import { build } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

/*
 * A CDN or nginx's proxy_cache keys on the URL, not on the cookie: no
 * answer of the proxy may be one that a shared cache would store and hand to
 * the next visitor, whatever the Web API says about its own URL.
 */

/** The answers of a plain upstream that sends the caching headers it is told. */
const CASES: Array<{ path: string, headers: Record<string, string>, cacheControl: string }> = [
  { path: 'public', headers: { 'cache-control': 'public, max-age=300', etag: '"p1"' }, cacheControl: 'private, max-age=300' },
  { path: 'shared', headers: { 'cache-control': 'max-age=60, s-maxage=3600, proxy-revalidate' }, cacheControl: 'private, max-age=60' },
  { path: 'twice', headers: { 'cache-control': 'PUBLIC, max-age=10, Private' }, cacheControl: 'max-age=10, Private' },
  { path: 'none', headers: {}, cacheControl: 'private' },
  { path: 'no-store', headers: { 'cache-control': 'public, no-store' }, cacheControl: 'no-store' },
  { path: 'already', headers: { 'cache-control': 'private, max-age=0' }, cacheControl: 'private, max-age=0' }
]

async function upstreamApp (t: Parameters<typeof build>[0]) {
  const apiUrl = await fakeUpstream(t, (upstream) => {
    for (const { path, headers } of CASES) {
      upstream.get(`/v1/cases/${path}`, async (_request, reply) => reply.headers(headers).send({ path }))
    }
    upstream.get('/v1/linked', async (_request, reply) => reply.headers({ 'cache-control': 'public, max-age=60', etag: '"strong"', vary: 'Accept-Language, cookie' })
      .send({ href: `${apiUrl}/v1/linked` }))
    upstream.get('/v1/weak', async (_request, reply) => reply.headers({ etag: 'W/"already"' }).send({ href: `${apiUrl}/v1/weak` }))
    upstream.get('/v1/star', async (_request, reply) => reply.headers({ vary: '*' }).send({}))
    upstream.get('/v1/limited', async (_request, reply) => reply.code(429).headers({ 'retry-after': '1', 'cache-control': 'public, max-age=5' }).send({}))
  })
  return await build(t, { plugin: { apiUrl } })
}

t.test('the proxy never answers public: s-maxage and proxy-revalidate go, private comes', async (t) => {
  const built = await upstreamApp(t)
  const { jar } = await built.login()
  for (const { path, cacheControl } of CASES) {
    const response = await built.request(jar, { url: `/spotify/cases/${path}` })
    t.equal(response.statusCode, 200, path)
    t.equal(response.headers['cache-control'], cacheControl, path)
    t.notMatch(String(response.headers['cache-control']), /public|s-maxage|proxy-revalidate/i, `${path}: nothing a shared cache may store`)
    t.equal(response.headers.vary, 'Cookie', `${path}: the cookie chose the answer`)
  }
  const limited = await built.request(jar, { url: '/spotify/limited' })
  t.equal(limited.statusCode, 429)
  t.equal(limited.headers['cache-control'], 'private, max-age=5', 'a passed-on 429 too')
})

t.test('Vary names the cookie once beside the Web API\'s; * stays alone', async (t) => {
  const built = await upstreamApp(t)
  const { jar } = await built.login()
  const linked = await built.request(jar, { url: '/spotify/linked' })
  t.equal(linked.headers.vary, 'Accept-Language, cookie', 'the Web API already named it')
  const star = await built.request(jar, { url: '/spotify/star' })
  t.equal(star.headers.vary, '*')
})

t.test('the ETag of a body the proxy rewrote is weak; one it did not touch stays strong', async (t) => {
  const built = await upstreamApp(t)
  const { jar } = await built.login()
  const linked = await built.request(jar, { url: '/spotify/linked' })
  t.match(linked.json(), { href: /\/spotify\/linked$/ }, 'the link was rewritten')
  t.equal(linked.headers.etag, 'W/"strong"')
  const weak = await built.request(jar, { url: '/spotify/weak' })
  t.equal(weak.headers.etag, 'W/"already"', 'a weak one is not weakened twice')
  const untouched = await built.request(jar, { url: '/spotify/cases/public' })
  t.equal(untouched.headers.etag, '"p1"', 'same bytes as Spotify\'s: the validator holds')
})

t.test('without link rewriting, no ETag is weakened', async (t) => {
  const apiUrl = await fakeUpstream(t, (upstream) => {
    upstream.get('/v1/linked', async (_request, reply) => reply.headers({ etag: '"strong"' }).send({ href: `${apiUrl}/v1/linked` }))
  })
  const built = await build(t, { plugin: { apiUrl, proxyRewriteLinks: false } })
  const { jar } = await built.login()
  const linked = await built.request(jar, { url: '/spotify/linked' })
  t.equal(linked.headers.etag, '"strong"')
  t.equal(linked.headers['cache-control'], 'private')
})

t.test('headers that came as lists are read whole', async (t) => {
  t.equal(privateCacheControl(['public', 'max-age=5']), 'private, max-age=5')
  t.equal(varyWithCookie(undefined, ['Accept-Language', 'Origin']), 'Accept-Language, Origin, Cookie')
  t.equal(weakened(['"a"', '"b"']), 'W/"a"')
  t.equal(weakened([]), undefined)
})
