import t, { type Test } from 'tap'
import type { TokenSource, WebApiAnswer, WebApiCall } from '../plugin/web-api/call.js'
import { WebApiPolicy } from '../plugin/web-api/policy.js'
import { UsageCounter } from '../plugin/diagnostics/usage.js'
import { RateLimitGate } from '../plugin/web-api/rate-limit.js'
import { ResponseCache } from '../plugin/web-api/response-cache.js'
import type { WebApiTarget } from '../plugin/web-api/url-rule.js'
import { eventually } from './helpers/eventually.js'

/*
 * The cache inside the call policy, with a transport the test answers by
 * hand: revalidations that merge, writes that must not drop anything, and
 * 304s whose headers refresh an entry.
 */

const quiet = { info () {}, warn () {} } as never

function sourceOf (partition: string | undefined): TokenSource {
  return { required: async () => ({ accessToken: 'token' }), renewed: async (rejected) => ({ accessToken: rejected }), partition }
}

function call (method: string, target: string, headers: Record<string, string> = {}): WebApiCall {
  return { method, target: target as WebApiTarget, headers: { ...headers }, body: method === 'GET' ? null : '{}' }
}

/** A transport that answers each call with what the test queues, after `gate` opens. */
function scripted () {
  const seen: WebApiCall[] = []
  const answers: WebApiAnswer[] = []
  let open!: () => void
  let gate = Promise.resolve()
  const transport = async (sent: WebApiCall): Promise<WebApiAnswer> => {
    seen.push({ ...sent, headers: { ...sent.headers } })
    await gate
    return answers.shift() as WebApiAnswer
  }
  return {
    seen,
    answers,
    transport,
    hold () { gate = new Promise((resolve) => { open = resolve }) },
    release () { open() }
  }
}

const json = (body: object, headers: Record<string, string | string[]> = {}): WebApiAnswer =>
  ({ status: 200, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(body)) })

t.test('identical revalidations in flight merge, and a 304 serves the entry to all of them', async (t) => {
  const upstream = scripted()
  const cache = new ResponseCache({ maxEntries: 10, maxBytes: 100_000 })
  const policy = new WebApiPolicy(new RateLimitGate(undefined, quiet), upstream.transport, new UsageCounter(), cache)
  const source = sourceOf('s one')
  upstream.answers.push(json({ v: 1 }, { 'cache-control': 'private, max-age=0', etag: ['"v1"'] }))
  t.equal((await policy.call(source, call('GET', '/v1/me'))).source, 'network')
  upstream.hold()
  upstream.answers.push({ status: 304, headers: { etag: '"v1"', 'cache-control': 'private, max-age=30', 'content-length': '0' }, body: Buffer.alloc(0) })
  const both = [policy.call(source, call('GET', '/v1/me')), policy.call(source, call('GET', '/v1/me'))]
  await eventually('the revalidation to be sent', () => upstream.seen.length === 2)
  upstream.release()
  const answers = await Promise.all(both)
  t.equal(upstream.seen.length, 2, 'one revalidation for both')
  t.equal(upstream.seen[1]?.headers['if-none-match'], '"v1"', 'with the entry\'s ETag')
  t.same(answers.map((a) => [a.status, a.source, JSON.parse(a.body.toString()).v]), [[200, 'cache', 1], [200, 'cache', 1]])
  t.equal(answers[0]?.headers['content-type'], 'application/json', 'the stored headers')
  t.equal(answers[0]?.headers['cache-control'], 'private, max-age=30', 'updated by the 304')
  const fresh = await policy.call(source, call('GET', '/v1/me'))
  t.equal(fresh.source, 'cache', 'fresh for 30 s now')
  t.equal(upstream.seen.length, 2)
})

t.test('only a successful write of a partition drops its entries', async (t) => {
  const upstream = scripted()
  const cache = new ResponseCache({ maxEntries: 10, maxBytes: 100_000 })
  const policy = new WebApiPolicy(new RateLimitGate(undefined, quiet), upstream.transport, new UsageCounter(), cache)
  const source = sourceOf('s one')
  upstream.answers.push(json({ v: 1 }, { 'cache-control': 'max-age=60' }))
  await policy.call(source, call('GET', '/v1/playlists/p'))
  upstream.answers.push({ status: 500, headers: {}, body: Buffer.from('{}') })
  await policy.call(source, call('PUT', '/v1/playlists/p'))
  t.equal((await policy.call(source, call('GET', '/v1/playlists/p'))).source, 'cache', 'a failed write changed nothing')
  upstream.answers.push(json({}))
  await policy.call(sourceOf(undefined), call('PUT', '/v1/playlists/p'))
  t.equal((await policy.call(source, call('GET', '/v1/playlists/p'))).source, 'cache', 'a source without a partition drops nothing')
  upstream.answers.push(json({}))
  await policy.call(source, call('PUT', '/v1/playlists/p'))
  upstream.answers.push(json({ v: 2 }, { 'cache-control': 'max-age=60' }))
  t.equal((await policy.call(source, call('GET', '/v1/playlists/p'))).source, 'network', 'the partition\'s own write did')

  const plain = scripted()
  const uncached = new WebApiPolicy(new RateLimitGate(undefined, quiet), plain.transport, new UsageCounter())
  plain.answers.push(json({}))
  t.equal((await uncached.call(source, call('PUT', '/v1/playlists/p'))).status, 200, 'without a cache, writes go as before')
})

t.test('inside the rate-limit window a fresh entry still answers; anything else fails before a token is read', async (t) => {
  const upstream = scripted()
  const cache = new ResponseCache({ maxEntries: 10, maxBytes: 100_000 })
  const gate = new RateLimitGate(undefined, quiet)
  const policy = new WebApiPolicy(gate, upstream.transport, new UsageCounter(), cache)
  let reads = 0
  const source: TokenSource = { required: async () => { reads++; return { accessToken: 'token' } }, renewed: async (rejected) => ({ accessToken: rejected }), partition: 's one' }
  upstream.answers.push(json({ v: 1 }, { 'cache-control': 'max-age=60' }))
  await policy.call(source, call('GET', '/v1/albums/a'))
  await gate.observe('30')
  reads = 0
  t.equal((await policy.call(source, call('GET', '/v1/albums/a'))).source, 'cache', 'fresh: served')
  t.equal(reads, 1, 'after the session check')
  await t.rejects(policy.call(source, call('GET', '/v1/albums/b')), { code: 'FST_SPOTIFY_RATE_LIMITED' }, 'nothing cached: held back')
  await t.rejects(policy.call(source, call('GET', '/v1/albums/a', { 'cache-control': 'no-cache' })), { code: 'FST_SPOTIFY_RATE_LIMITED' }, 'a revalidation: held back')
  t.equal(reads, 1, 'without reading a token')
  t.equal(upstream.seen.length, 1)
})

t.test('a caller\'s own validator goes to Spotify as it is; a 304 that forbids storing leaves the entry stale', async (t) => {
  const upstream = scripted()
  const cache = new ResponseCache({ maxEntries: 10, maxBytes: 100_000 })
  const policy = new WebApiPolicy(new RateLimitGate(undefined, quiet), upstream.transport, new UsageCounter(), cache)
  const source = sourceOf('s one')
  upstream.answers.push(json({ v: 1 }, { 'cache-control': 'max-age=0', etag: '"v1"' }))
  await policy.call(source, call('GET', '/v1/me'))
  upstream.answers.push({ status: 304, headers: { etag: '"mine"' }, body: Buffer.alloc(0) })
  const theirs = await policy.call(source, call('GET', '/v1/me', { 'if-none-match': '"mine"' }))
  t.equal(upstream.seen[1]?.headers['if-none-match'], '"mine"', 'not replaced by the entry\'s')
  t.same([theirs.status, theirs.source], [304, 'network'], 'Spotify\'s 304 to the caller\'s own validator')
  upstream.answers.push({ status: 304, headers: { etag: '"v1"', 'cache-control': 'no-store' }, body: Buffer.alloc(0) })
  t.equal((await policy.call(source, call('GET', '/v1/me'))).source, 'cache', 'confirmed')
  upstream.answers.push({ status: 304, headers: { etag: '"v1"' }, body: Buffer.alloc(0) })
  await policy.call(source, call('GET', '/v1/me'))
  t.equal(upstream.seen.length, 4, 'but not fresh: asked again')
})

/** `Date.now` held by the test, as the policy and the cache read it; restored at the end. */
function heldClock (t: Test) {
  const real = Date.now
  let now = real()
  Date.now = () => now
  t.teardown(() => { Date.now = real })
  return { advance (ms: number) { now += ms } }
}

const userData = (v: number, extra = ''): WebApiAnswer => json({ v }, { 'cache-control': `private, max-age=0${extra}`, etag: `"v${v}"` })
const notModified = (v: number): WebApiAnswer => ({ status: 304, headers: { etag: `"v${v}"`, 'cache-control': 'private, max-age=0' }, body: Buffer.alloc(0) })

t.test('cache.maxStale: a stale entry answers within it without Spotify, and is revalidated after it', async (t) => {
  const clock = heldClock(t)
  const upstream = scripted()
  const cache = new ResponseCache({ maxEntries: 10, maxBytes: 100_000, maxStale: 5 })
  const gate = new RateLimitGate(undefined, quiet)
  const policy = new WebApiPolicy(gate, upstream.transport, new UsageCounter(), cache)
  const source = sourceOf('s one')
  upstream.answers.push(userData(1))
  await policy.call(source, call('GET', '/v1/me'))
  clock.advance(4000)
  const stale = await policy.call(source, call('GET', '/v1/me'))
  t.same([stale.source, JSON.parse(stale.body.toString()).v, stale.headers.age], ['cache', 1, '4'], 'served 4 s stale, with its honest Age')
  clock.advance(999)
  t.equal((await policy.call(source, call('GET', '/v1/me'))).source, 'cache', 'a millisecond short of 5 s stale: still served')
  t.equal(upstream.seen.length, 1, 'without asking Spotify')
  clock.advance(1)
  upstream.answers.push(notModified(1))
  t.equal((await policy.call(source, call('GET', '/v1/me'))).source, 'cache', '5 s stale: revalidated, then served')
  t.equal(upstream.seen.length, 2)
  t.equal(upstream.seen[1]?.headers['if-none-match'], '"v1"', 'with its ETag')
  clock.advance(3000)
  await gate.observe('30')
  t.equal((await policy.call(source, call('GET', '/v1/me'))).source, 'cache', 'confirmed 3 s ago: served inside the rate-limit window too')
  clock.advance(3000)
  await t.rejects(policy.call(source, call('GET', '/v1/me')), { code: 'FST_SPOTIFY_RATE_LIMITED' }, 'too stale: held back with the rest')
  t.equal(upstream.seen.length, 2)
})

t.test('the caller\'s own max-stale wins over cache.maxStale; no-cache, max-age=0 and no-store never get a stale answer', async (t) => {
  const clock = heldClock(t)
  const upstream = scripted()
  const cache = new ResponseCache({ maxEntries: 10, maxBytes: 100_000, maxStale: 5 })
  const policy = new WebApiPolicy(new RateLimitGate(undefined, quiet), upstream.transport, new UsageCounter(), cache)
  const source = sourceOf('s one')
  upstream.answers.push(userData(1))
  await policy.call(source, call('GET', '/v1/me'))
  clock.advance(60_000)
  t.equal((await policy.call(source, call('GET', '/v1/me', { 'cache-control': 'max-stale=120' }))).source, 'cache', 'a minute stale, the caller allows two')
  t.equal((await policy.call(source, call('GET', '/v1/me', { 'cache-control': 'max-stale' }))).source, 'cache', 'a bare max-stale: any staleness')
  t.equal(upstream.seen.length, 1)
  clock.advance(-58_000)
  upstream.answers.push(notModified(1))
  await policy.call(source, call('GET', '/v1/me', { 'cache-control': 'max-stale=0' }))
  t.equal(upstream.seen.length, 2, 'max-stale=0 is stricter than the app\'s 5 s: revalidated')
  for (const headers of [{ 'cache-control': 'no-cache, max-stale=60' }, { 'cache-control': 'max-age=0, max-stale=60' }, { pragma: 'no-cache' }] as Array<Record<string, string>>) {
    clock.advance(1000)
    upstream.answers.push(notModified(1))
    t.equal((await policy.call(source, call('GET', '/v1/me', headers))).source, 'cache', `${JSON.stringify(headers)}: asked Spotify first`)
  }
  t.equal(upstream.seen.length, 5)
  clock.advance(1000)
  upstream.answers.push(userData(2))
  const bypass = await policy.call(source, call('GET', '/v1/me', { 'cache-control': 'no-store, max-stale=60' }))
  t.same([bypass.source, upstream.seen.length], ['network', 6], 'no-store: past the cache')
})

t.test('an answer marked no-cache or must-revalidate is never served stale; proxy-revalidate binds shared caches only', async (t) => {
  const clock = heldClock(t)
  const upstream = scripted()
  const cache = new ResponseCache({ maxEntries: 10, maxBytes: 100_000, maxStale: 5 })
  const policy = new WebApiPolicy(new RateLimitGate(undefined, quiet), upstream.transport, new UsageCounter(), cache)
  const source = sourceOf('s one')
  const cases: Array<[string, string, number]> = [['/v1/me', ', no-cache', 2], ['/v1/me/playlists', ', must-revalidate', 2], ['/v1/me/player', ', proxy-revalidate', 1]]
  for (const [target, extra, calls] of cases) {
    const before = upstream.seen.length
    upstream.answers.push(userData(1, extra))
    await policy.call(source, call('GET', target))
    clock.advance(1000)
    if (calls === 2) upstream.answers.push(notModified(1))
    await policy.call(source, call('GET', target, { 'cache-control': 'max-stale=60' }))
    t.equal(upstream.seen.length - before, calls, `${extra.slice(2)}: ${calls === 2 ? 'revalidated' : 'served stale'}`)
  }
  upstream.answers.push({ status: 304, headers: { etag: '"v1"', 'cache-control': 'private, max-age=0, must-revalidate' }, body: Buffer.alloc(0) })
  await policy.call(source, call('GET', '/v1/me/player', { 'cache-control': 'max-stale=0' }))
  clock.advance(1000)
  upstream.answers.push(notModified(1))
  await policy.call(source, call('GET', '/v1/me/player'))
  t.equal(upstream.seen.length, 7, 'a 304 that says must-revalidate takes the permission away')
})

t.test('a write still drops the stale entries it changed, within maxStale or not', async (t) => {
  heldClock(t)
  const upstream = scripted()
  const cache = new ResponseCache({ maxEntries: 10, maxBytes: 100_000, maxStale: 3600 })
  const policy = new WebApiPolicy(new RateLimitGate(undefined, quiet), upstream.transport, new UsageCounter(), cache)
  const mine = sourceOf('s one')
  const theirs = sourceOf('s two')
  upstream.answers.push(userData(1), userData(1))
  await policy.call(mine, call('GET', '/v1/playlists/p/items'))
  await policy.call(theirs, call('GET', '/v1/playlists/p/items'))
  upstream.answers.push({ status: 201, headers: {}, body: Buffer.from('{}') })
  await policy.call(mine, call('POST', '/v1/playlists/p/items'))
  upstream.answers.push(userData(2))
  const after = await policy.call(mine, call('GET', '/v1/playlists/p/items'))
  t.same([after.source, JSON.parse(after.body.toString()).v], ['network', 2], 'the writer reads its write')
  const other = await policy.call(theirs, call('GET', '/v1/playlists/p/items'))
  t.same([other.source, JSON.parse(other.body.toString()).v], ['cache', 1], 'another session keeps its own stale copy, for maxStale at most')
  t.equal(upstream.seen.length, 4)
})

t.test('inside the rate-limit window an entry that must be revalidated answers nothing: the call fails before it is sent', async (t) => {
  const upstream = scripted()
  const gate = new RateLimitGate(undefined, quiet)
  const policy = new WebApiPolicy(gate, upstream.transport, new UsageCounter(), new ResponseCache({ maxEntries: 10, maxBytes: 100_000 }))
  const source = sourceOf('s one')
  upstream.answers.push(json({ v: 1 }, { 'cache-control': 'private, max-age=0', etag: '"v1"' }))
  await policy.call(source, call('GET', '/v1/me'))
  await gate.observe('30', undefined)
  await t.rejects(policy.call(source, call('GET', '/v1/me')), { code: 'FST_SPOTIFY_RATE_LIMITED' })
  t.equal(upstream.seen.length, 1, 'nothing sent in the window')
})
