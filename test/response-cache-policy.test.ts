import t from 'tap'
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
