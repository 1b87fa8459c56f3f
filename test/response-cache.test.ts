import t from 'tap'
import { errorCodes } from '../plugin/index.js'
import { etagMatches, freshnessOf, requestDirectivesOf } from '../plugin/web-api/cache-rules.js'
import { staleAfterWrite } from '../plugin/web-api/invalidation.js'
import { ResponseCache } from '../plugin/web-api/response-cache.js'
import type { WebApiCall } from '../plugin/web-api/call.js'
import type { WebApiTarget } from '../plugin/web-api/url-rule.js'
import { build, type BuildOptions } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

/*
 * The policy's private cache, against a plain upstream that sends the
 * caching headers each test chooses and counts what reaches it.
 */

interface Upstream {
  /** Headers of the answers under a path (without query). */
  headers: Map<string, Record<string, string>>
  /** Calls that reached it, by path with query. */
  calls: Map<string, number>
  /** The If-None-Match of each call, in order. */
  conditions: Array<string | undefined>
  /** Bumped to change every body. */
  version: number
}

async function cachedApp (t: Parameters<typeof build>[0], plugin: BuildOptions['plugin'] = {}) {
  const upstream: Upstream = { headers: new Map(), calls: new Map(), conditions: [], version: 1 }
  const apiUrl = await fakeUpstream(t, (app) => {
    app.route({
      method: ['GET', 'POST', 'PUT', 'DELETE'],
      url: '/v1/*',
      handler: async (request, reply) => {
        const url = request.url
        const path = url.split('?')[0] as string
        upstream.calls.set(url, (upstream.calls.get(url) ?? 0) + 1)
        if (request.method !== 'GET') return reply.code(request.method === 'POST' ? 201 : 200).send({ wrote: path })
        const condition = request.headers['if-none-match']
        upstream.conditions.push(condition)
        const headers = upstream.headers.get(path) ?? { 'cache-control': 'private, max-age=60' }
        reply.headers(headers)
        if (condition !== undefined && headers.etag !== undefined && condition === headers.etag) return reply.code(304).send()
        // Which session asked, by its bearer's length and tail: never the token itself.
        const bearer = String(request.headers.authorization)
        return { path: url, version: upstream.version, who: bearer.slice(-6).length }
      }
    })
  })
  const built = await build(t, { plugin: { apiUrl, ...plugin } })
  const { jar } = await built.login()
  upstream.calls.clear()
  const get = (url: string, headers?: Record<string, string>, as = jar) => built.request(as, { url: `/spotify/${url}`, ...(headers === undefined ? {} : { headers }) })
  return { ...built, jar, upstream, get, callsTo: (url: string) => upstream.calls.get(`/v1/${url}`) ?? 0 }
}

t.test('a fresh answer is served without calling Spotify; no-store never is', async (t) => {
  const app = await cachedApp(t)
  const first = await app.get('albums/a')
  const second = await app.get('albums/a')
  t.equal(app.callsTo('albums/a'), 1, 'one call')
  t.same(second.json(), first.json())
  t.match(second.headers.age, /^\d+$/, 'with its Age')
  t.equal(second.headers['cache-control'], 'private, max-age=60')

  app.upstream.headers.set('/v1/secret', { 'cache-control': 'no-store', etag: '"s"' })
  await app.get('secret')
  await app.get('secret')
  t.equal(app.callsTo('secret'), 2, 'no-store: every read goes to Spotify')
  app.upstream.headers.set('/v1/plain', {})
  await app.get('plain')
  await app.get('plain')
  t.equal(app.callsTo('plain'), 2, 'neither freshness nor a validator: nothing to keep')
  await app.get('albums/a?market=DE')
  t.equal(app.callsTo('albums/a?market=DE'), 1, 'another query, another entry')
  app.upstream.headers.set('/v1/aged', { 'cache-control': 'max-age=60', age: '5' })
  await app.get('aged')
  t.ok(Number((await app.get('aged')).headers.age) >= 5, 'the Age it came with counts')
})

t.test('a stale entry is revalidated with its ETag, and a 304 serves the cached body', async (t) => {
  // RFC 9111 alone: no standing max-stale, so every stale read is revalidated.
  const app = await cachedApp(t, { cache: { maxStale: 0 } })
  app.upstream.headers.set('/v1/me/playlists', { 'cache-control': 'private, max-age=0', etag: '"v1"' })
  const first = await app.get('me/playlists')
  t.equal(first.statusCode, 200)
  const again = await app.get('me/playlists')
  t.equal(again.statusCode, 200, 'the browser gets the body, not the 304')
  t.same(again.json(), first.json())
  t.same(app.upstream.conditions, [undefined, '"v1"'], 'the cache asked with its ETag')
  app.upstream.headers.set('/v1/me/playlists', { 'cache-control': 'private, max-age=0', etag: '"v2"' })
  app.upstream.version = 2
  const changed = await app.get('me/playlists')
  t.equal(changed.json().version, 2, 'a changed resource comes back whole')
  await app.get('me/playlists')
  t.same(app.upstream.conditions.slice(2), ['"v1"', '"v2"'], 'and replaces the entry')
})

t.test('the caller\'s own no-cache asks Spotify; its own If-None-Match is answered from a fresh entry', async (t) => {
  const app = await cachedApp(t)
  app.upstream.headers.set('/v1/tracks/t', { 'cache-control': 'private, max-age=60', etag: '"t1"' })
  await app.get('tracks/t')
  const forced = await app.get('tracks/t', { 'cache-control': 'no-cache' })
  t.equal(forced.statusCode, 200)
  t.equal(app.callsTo('tracks/t'), 2, 'no-cache: revalidated')
  t.same(app.upstream.conditions, [undefined, '"t1"'])
  await app.get('tracks/t', { pragma: 'no-cache' })
  t.equal(app.callsTo('tracks/t'), 3, 'Pragma: no-cache too')
  const notModified = await app.get('tracks/t', { 'if-none-match': '"t1"' })
  t.equal(notModified.statusCode, 304, 'the browser\'s validator matches the fresh entry')
  t.equal(notModified.body, '')
  const other = await app.get('tracks/t', { 'if-none-match': '"zz"' })
  t.equal(other.statusCode, 200, 'one that does not match gets the body')
  t.equal(app.callsTo('tracks/t'), 3, 'both from the cache')
  await app.get('albums/b')
  const unvalidated = await app.get('albums/b', { 'if-none-match': '"b"' })
  t.equal(unvalidated.statusCode, 200, 'an entry without an ETag matches no validator')
  t.equal(app.callsTo('albums/b'), 1)
  app.upstream.headers.set('/v1/tracks/u', { 'cache-control': 'private, max-age=60', etag: '"u1"' })
  const theirs = await app.get('tracks/u', { 'if-none-match': '"u1"' })
  t.equal(theirs.statusCode, 304, 'without an entry, the browser\'s validator goes to Spotify and its 304 comes back')
  await app.get('tracks/u')
  t.equal(app.callsTo('tracks/u'), 2, 'a 304 to the browser\'s validator stores nothing')
  const bypass = await app.get('tracks/t', { 'cache-control': 'no-store' })
  t.equal(bypass.statusCode, 200)
  t.equal(app.callsTo('tracks/t'), 4, 'no-store: the cache is passed by')
})

t.test('two sessions never see each other\'s cached answer', async (t) => {
  const app = await cachedApp(t)
  const other = (await app.login()).jar
  app.upstream.calls.clear()
  await app.get('me/top')
  await app.get('me/top', undefined, other)
  t.equal(app.callsTo('me/top'), 2, 'one call per session')
  await app.get('me/top')
  await app.get('me/top', undefined, other)
  t.equal(app.callsTo('me/top'), 2, 'then each from its own entry')
  const logout = await app.request(other, { method: 'POST', url: '/logout', headers: { origin: 'http://127.0.0.1:5543' } })
  t.equal(logout.statusCode, 303)
  t.equal((await app.get('me/top', undefined, other)).statusCode, 401, 'an ended session gets nothing from the cache')
})

t.test('a successful write drops its resource, what is above it and the lists that show it, and only those', async (t) => {
  const app = await cachedApp(t)
  const other = (await app.login()).jar
  const reads = ['playlists/p1', 'playlists/p1/items?offset=0', 'me/playlists', 'playlists/p2', 'me', 'albums/x']
  for (const url of reads) await app.get(url)
  await app.get('playlists/p1', undefined, other)
  app.upstream.calls.clear()
  const wrote = await app.request(app.jar, { method: 'POST', url: '/spotify/playlists/p1/items', payload: { uris: [] }, headers: { origin: 'http://127.0.0.1:5543' } })
  t.equal(wrote.statusCode, 201)
  for (const url of reads) await app.get(url)
  t.same(Object.fromEntries(app.upstream.calls), {
    '/v1/playlists/p1/items': 1,
    '/v1/playlists/p1': 1,
    '/v1/playlists/p1/items?offset=0': 1,
    '/v1/me/playlists': 1
  }, 'read again: the items, the playlist, the list of playlists; the rest from the cache')
  await app.get('playlists/p1', undefined, other)
  t.equal(app.callsTo('playlists/p1'), 1, 'another session\'s entry stays until its freshness ends')
})

t.test('the bounds hold under a flood of distinct URLs; the least recently used go first', async (t) => {
  const app = await cachedApp(t, { cache: { maxEntries: 20, maxBytes: 100_000 } })
  await app.get('albums/keep')
  for (let i = 0; i < 300; i++) {
    await app.get(`albums/flood-${i}`)
    if (i % 10 === 0) await app.get('albums/keep')
  }
  t.equal(app.callsTo('albums/keep'), 1, 'read often: kept')
  await app.get('albums/flood-0')
  t.equal(app.callsTo('albums/flood-0'), 2, 'an old one was evicted')

  const cache = new ResponseCache({ maxEntries: 50, maxBytes: 20_000 })
  const body = Buffer.alloc(700, 'x')
  for (let i = 0; i < 1000; i++) {
    const call = { method: 'GET', target: `/v1/x/${i}` as WebApiTarget, headers: {}, body: null } satisfies WebApiCall
    cache.store(cache.keyOf('s a', call) as string, 's a', call.target, { status: 200, headers: { 'cache-control': 'max-age=60' }, body }, Date.now())
    t.ok(cache.usage.entries <= 50 && cache.usage.bytes <= 20_000, `within bounds after ${i}`, { diagnostic: false })
  }
  t.ok(cache.usage.entries > 20, 'and still in use')
  const huge = { method: 'GET', target: '/v1/huge' as WebApiTarget, headers: {}, body: null }
  cache.store(cache.keyOf('s a', huge) as string, 's a', huge.target, { status: 200, headers: { 'cache-control': 'max-age=60' }, body: Buffer.alloc(30_000) }, Date.now())
  t.equal(cache.get(cache.keyOf('s a', huge) as string), undefined, 'an answer larger than maxBytes is not kept')
  t.equal(cache.keyOf(undefined, huge), undefined, 'no partition, no entry')
  t.equal(cache.keyOf('s a', { ...huge, headers: { range: 'bytes=0-1' } }), undefined, 'nor for a range')
})

t.test('cache: false keeps nothing; a bad cache option is refused at register', async (t) => {
  const app = await cachedApp(t, { cache: false })
  await app.get('albums/a')
  await app.get('albums/a')
  t.equal(app.callsTo('albums/a'), 2)
  const wrote = await app.request(app.jar, { method: 'PUT', url: '/spotify/albums/a', payload: {}, headers: { origin: 'http://127.0.0.1:5543' } })
  t.equal(wrote.statusCode, 200, 'a write with no cache to clean')
  for (const cache of ['on', null, { maxEntries: 0 }, { maxBytes: 1.5 }, [], { maxStale: -1 }, { maxStale: '5' }, { maxStale: Infinity }]) {
    await t.rejects(build(t, { plugin: { cache: cache as never } }), { code: errorCodes.INVALID_OPTION, message: /options\.cache/ }, JSON.stringify(cache))
  }
})

t.test('what a private cache may keep, and for how long', async (t) => {
  const now = Date.parse('2026-12-07T10:00:00Z')
  t.equal(freshnessOf({ 'cache-control': 'private, max-age=60' }, now), 60_000)
  t.equal(freshnessOf({ 'cache-control': 'max-age=60', age: '15' }, now), 45_000, 'Age is taken off')
  t.equal(freshnessOf({ 'cache-control': 'public, s-maxage=600, max-age=5' }, now), 5000, 's-maxage is not ours')
  t.equal(freshnessOf({ 'cache-control': 'no-cache, max-age=60', etag: '"a"' }, now), 0, 'no-cache: revalidate only')
  t.equal(freshnessOf({ 'cache-control': 'no-cache' }, now), undefined, 'no-cache without a validator: useless')
  t.equal(freshnessOf({ 'cache-control': 'no-store, max-age=60' }, now), undefined)
  t.equal(freshnessOf({ 'cache-control': 'max-age=60', vary: '*' }, now), undefined)
  t.equal(freshnessOf({ 'cache-control': ['private', 'max-age=30'] }, now), 30_000, 'split over lines')
  t.equal(freshnessOf({ 'cache-control': 'max-age="20"' }, now), 20_000, 'quoted')
  t.equal(freshnessOf({ 'cache-control': 'max-age=soon', etag: ['"a"'] }, now), 0)
  t.equal(freshnessOf({ expires: 'Mon, 07 Dec 2026 10:01:00 GMT', date: 'Mon, 07 Dec 2026 10:00:30 GMT' }, now), 30_000, 'Expires against Date')
  t.equal(freshnessOf({ expires: 'Mon, 07 Dec 2026 10:01:00 GMT' }, now), 60_000, 'against now without Date')
  t.equal(freshnessOf({ expires: '0', etag: '"a"' }, now), 0, 'an unreadable Expires is stale')
  t.equal(freshnessOf({ expires: 'soon', etag: '"a"' }, now), 0, 'so is one that is not a date')
  t.equal(freshnessOf({ expires: 'Mon, 07 Dec 2026 09:00:00 GMT' }, now), undefined)
  t.equal(freshnessOf({ expires: 'Mon, 07 Dec 2026 10:01:00 GMT', date: 'not a date' }, now), 60_000, 'an unreadable Date: against now')
  t.equal(freshnessOf({ expires: 'Mon, 07 Dec 2026 10:01:00 GMT', date: 'Mon, 07 Dec 2026 10:02:00 GMT', etag: '"a"' }, now), 0, 'expired by its own Date')
  t.same(requestDirectivesOf({}), { bypass: false, revalidate: false })
  t.same(requestDirectivesOf({ 'cache-control': 'max-age=0' }), { bypass: false, revalidate: true })
  t.same(requestDirectivesOf({ pragma: 'No-Cache' }), { bypass: false, revalidate: true })
  t.same(requestDirectivesOf({ 'cache-control': 'no-store' }), { bypass: true, revalidate: false })
  t.ok(etagMatches('W/"a", "b"', '"b"'))
  t.ok(etagMatches('"a"', 'W/"a"'), 'weak comparison')
  t.ok(etagMatches('*', '"z"'))
  t.notOk(etagMatches('"a"', '"b"'))
})

t.test('what a write makes stale', async (t) => {
  const cases: Array<[string, string[], string[]]> = [
    ['/v1/playlists/p1/items', ['/v1/playlists/p1/items', '/v1/playlists/p1', '/v1/me/playlists', '/v1/users/alice/playlists'], ['/v1/playlists/p2', '/v1/playlists', '/v1/me', '/v1/me/tracks']],
    ['/v1/playlists/p1', ['/v1/playlists/p1', '/v1/playlists/p1/items', '/v1/me/playlists'], ['/v1/playlists/p2/items']],
    ['/v1/me/library', ['/v1/me/library', '/v1/me/library/contains', '/v1/me/tracks', '/v1/me/albums', '/v1/me/playlists', '/v1/me/following'], ['/v1/me', '/v1/me/player', '/v1/playlists/p1']],
    ['/v1/me/tracks', ['/v1/me/tracks/contains', '/v1/me/library'], ['/v1/me']],
    ['/v1/playlists/p1/followers', ['/v1/me/playlists', '/v1/me/library', '/v1/playlists/p1'], ['/v1/playlists/p2']],
    ['/v1/users/alice/playlists', ['/v1/me/playlists', '/v1/users/bob/playlists'], ['/v1/me']],
    ['/v1/me/player/play', ['/v1/me/player', '/v1/me/player/currently-playing', '/v1/me/player/queue'], ['/v1/me']]
  ]
  for (const [written, stale, kept] of cases) {
    const test = staleAfterWrite(written)
    for (const path of stale) t.ok(test(path), `${written} makes ${path} stale`)
    for (const path of kept) t.notOk(test(path), `${written} leaves ${path}`)
  }
})

t.test('through the proxy, the default maxStale serves user data a few seconds stale; the page can ask for more or for none', async (t) => {
  const app = await cachedApp(t, { cache: {} })
  app.upstream.headers.set('/v1/me/playlists', { 'cache-control': 'private, max-age=0', etag: '"v1"' })
  const first = await app.get('me/playlists')
  const again = await app.get('me/playlists')
  t.equal(app.callsTo('me/playlists'), 1, 'the default 5 s: not asked again')
  t.same(again.json(), first.json())
  t.match(again.headers.age, /^\d+$/, 'with its Age')
  await app.get('me/playlists', { 'cache-control': 'max-stale=0' })
  await app.get('me/playlists', { 'cache-control': 'no-cache' })
  t.same(app.upstream.conditions, [undefined, '"v1"', '"v1"'], 'max-stale=0 and no-cache: revalidated')
})
