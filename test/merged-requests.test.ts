import t from 'tap'
import { memoryStore, type TokenStore } from '../plugin/index.js'
import type { TokenSource, WebApiAnswer, WebApiCall } from '../plugin/web-api/call.js'
import { mergeKey } from '../plugin/web-api/merge.js'
import { WebApiPolicy } from '../plugin/web-api/policy.js'
import { UsageCounter } from '../plugin/diagnostics/usage.js'
import { RateLimitGate } from '../plugin/web-api/rate-limit.js'
import type { WebApiTarget } from '../plugin/web-api/url-rule.js'
import { build } from './helpers/build.js'
import { eventually } from './helpers/eventually.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

const quiet = { info () {}, warn () {} } as never

function sourceOf (partition: string | undefined): TokenSource {
  return { required: async () => ({ accessToken: `token-of-${partition ?? 'none'}` }), renewed: async (rejected) => ({ accessToken: rejected }), partition }
}

function read (target = '/v1/me', headers: Record<string, string> = {}): WebApiCall {
  return { method: 'GET', target: target as WebApiTarget, headers: { ...headers }, body: null }
}

/** A transport whose answers wait for the test: it counts the calls that reach it. */
function heldTransport () {
  const calls: WebApiCall[] = []
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  const transport = async (call: WebApiCall): Promise<WebApiAnswer> => {
    calls.push(call)
    await released
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ n: calls.length, auth: call.headers.authorization })) }
  }
  return { calls, release, transport }
}

t.test('identical reads of one partition in flight make one call; each answer says where it came from', async (t) => {
  const { calls, release, transport } = heldTransport()
  const policy = new WebApiPolicy(new RateLimitGate(undefined, quiet), transport, new UsageCounter())
  const one = sourceOf('s one')
  const pending = Array.from({ length: 100 }, () => policy.call(one, read()))
  const other = policy.call(sourceOf('s two'), read())
  const app = policy.call(sourceOf('app'), read())
  await eventually('the three calls to reach the transport', () => calls.length === 3)
  release()
  const answers = await Promise.all(pending)
  t.equal(calls.length, 3, 'one call per partition')
  t.same(answers.map((a) => a.source).sort(), ['network', ...Array(99).fill('merged')].sort())
  t.ok(answers.every((a) => a.body.equals(answers[0]!.body)), 'one answer for all')
  t.equal(JSON.parse(answers[0]!.body.toString()).auth, 'Bearer token-of-s one')
  t.equal(JSON.parse((await other).body.toString()).auth, 'Bearer token-of-s two', 'another session: its own call and answer')
  t.equal((await app).source, 'network')

  t.equal((await policy.call(one, read())).source, 'network')
  t.equal(calls.length, 4, 'once the call has ended, the next goes out again')
})

t.test('a failure in flight is every merged caller\'s failure; the next call goes out again', async (t) => {
  let calls = 0
  let fail!: (err: Error) => void
  const transport = (): Promise<WebApiAnswer> => {
    calls++
    return new Promise((_resolve, reject) => { fail = reject })
  }
  const policy = new WebApiPolicy(new RateLimitGate(undefined, quiet), transport, new UsageCounter())
  const source = sourceOf('s one')
  const first = policy.call(source, read())
  const second = policy.call(source, read())
  await eventually('the call to be sent', () => calls === 1)
  fail(Object.assign(new Error('unreachable'), { code: 'FST_SPOTIFY_UPSTREAM_ERROR' }))
  await t.rejects(first, { message: 'unreachable' })
  await t.rejects(second, { message: 'unreachable' })
  const third = policy.call(source, read())
  await eventually('the next call to go out again', () => calls === 2)
  fail(new Error('again'))
  await t.rejects(third, { message: 'again' })
})

t.test('what a merge key is made of', async (t) => {
  const source = sourceOf('s one')
  const key = mergeKey(source, read('/v1/me', { accept: 'application/json', 'accept-language': 'de' }))
  t.equal(mergeKey(source, read('/v1/me', { 'accept-language': 'de', accept: 'application/json' })), key, 'header order does not matter')
  t.equal(mergeKey(source, read('/v1/me', { 'accept-language': 'de', accept: 'application/json', authorization: 'Bearer x' })), key, 'the bearer is not part of it')
  t.not(mergeKey(source, read('/v1/me', { 'accept-language': 'fr', accept: 'application/json' })), key, 'a header that differs')
  t.not(mergeKey(source, read('/v1/me?market=DE', { 'accept-language': 'de', accept: 'application/json' })), key, 'a query that differs')
  t.not(mergeKey(sourceOf('s two'), read('/v1/me', { 'accept-language': 'de', accept: 'application/json' })), key, 'another session')
  t.ok(mergeKey(source, { ...read(), method: 'HEAD' }), 'HEAD merges with HEADs')
  t.equal(mergeKey(sourceOf(undefined), read()), undefined, 'a source without a partition')
  t.equal(mergeKey(source, { ...read(), method: 'POST', body: '{}' }), undefined, 'a write')
  t.equal(mergeKey(source, { ...read(), method: 'DELETE' }), undefined, 'a write without a body')
  t.equal(mergeKey(source, { ...read(), signal: new AbortController().signal }), undefined, 'a call its caller may abort')
})

t.test('through the proxy: 100 identical GETs of one session make one call; two sessions two, each with its own answer', async (t) => {
  let arrived = 0
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  const apiUrl = await fakeUpstream(t, (upstream) => {
    upstream.get('/v1/me/player/queue', async (request) => {
      const n = ++arrived
      await released
      // Which session's bearer it was, without echoing a token.
      return { n, bearer: String(request.headers.authorization).length > 7 }
    })
  })
  const store = memoryStore()
  let reads = 0
  const counting: TokenStore = { ...store, get: (sessionId) => { reads++; return store.get(sessionId) } }
  const built = await build(t, { plugin: { apiUrl, store: counting } })
  const alice = (await built.login()).jar
  const again = (await built.login()).jar
  reads = 0
  const a = Array.from({ length: 100 }, () => built.request(alice, { url: '/spotify/me/player/queue' }))
  const b = Array.from({ length: 100 }, () => built.request(again, { url: '/spotify/me/player/queue' }))
  // Every request read its session (then joins a call in flight without
  // I/O): only then may Spotify answer.
  await eventually('every request to read its session', () => reads >= 200)
  await new Promise((resolve) => setImmediate(resolve))
  release()
  const answersA = (await Promise.all(a)).map((r) => r.json())
  const answersB = (await Promise.all(b)).map((r) => r.json())
  t.equal(arrived, 2, 'one call per session')
  t.ok(answersA.every((body) => body.n === answersA[0].n), 'one answer for the first session')
  t.ok(answersB.every((body) => body.n === answersB[0].n), 'one for the second')
  t.not(answersA[0].n, answersB[0].n, 'never each other\'s')
})
