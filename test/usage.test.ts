/**
 * `fastify.spotify.usage()`: what this instance asked of Spotify over the
 * last hour and day, checked against the emulator's own counters, and the
 * counter's windows and bounds on a clock of the test's own.
 */
import t from 'tap'
import { routeTemplate } from '../plugin/diagnostics/route-template.js'
import { UsageCounter } from '../plugin/diagnostics/usage.js'
import { build } from './helpers/build.js'
import { expireStored, sessionIdOf } from './helpers/sessions.js'

t.test('the figures match what the emulator counted', async (t) => {
  const built = await build(t, {
    emulator: { accessTokenTtl: 3600 },
    plugin: { refreshCooldown: 0 },
    before (app) {
      app.get('/got', async (request) => await request.spotify.api.get('me/playlists', { searchParams: { limit: 1 } }).json())
    }
  })
  const { app, emulator, request } = built
  const { jar } = await built.login()
  for (let i = 0; i < 3; i++) t.equal((await request(jar, { url: `/spotify/playlists/p${i}/items` })).statusCode, 404)
  t.equal((await request(jar, { url: '/got' })).statusCode, 200)
  await expireStored(app.spotify.store, sessionIdOf(jar))
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200, 'refreshed by margin')
  emulator.control.unauthorizeApiCalls(1)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 200, 'refreshed after a 401, and sent again')
  await app.spotify.app.api.get('search', { searchParams: { q: 'a', type: 'track' } })
  emulator.control.rateLimitApiCalls(1, 1)
  t.equal((await request(jar, { url: '/spotify/me' })).statusCode, 429)

  const usage = await app.spotify.usage()
  const expected: Record<string, number> = {}
  for (const seen of emulator.control.apiRequests) {
    const route = routeTemplate(seen.path)
    expected[route] = (expected[route] ?? 0) + 1
  }
  const network = Object.fromEntries(Object.entries(usage.hour.calls).map(([route, sources]) => [route, sources.network]))
  t.same(network, expected, 'calls that went to Spotify by route template, as the emulator saw them')
  t.same(usage.hour.calls, {
    // One revalidation of the cached /me answered 304: sent, and served from the cache.
    '/v1/me': { network: 5, cache: 1 },
    '/v1/playlists/{id}/items': { network: 3 },
    '/v1/me/playlists': { network: 1 },
    '/v1/search': { network: 1 }
  })
  t.equal(usage.hour.networkCalls, emulator.control.counters.api)
  t.equal(usage.hour.refreshes, emulator.control.counters.refresh_token)
  t.equal(usage.hour.refreshes, 2)
  t.same(usage.hour.rateLimited, { rate: 1, quota: 0 })
  t.same(usage.day, usage.hour, 'the day holds the hour')
  t.ok(Math.abs(usage.at - Date.now()) < 60_000)
})

t.test('the hour and the day slide on the clock; memory stays bounded', async (t) => {
  let now = Date.UTC(2026, 0, 1, 12, 0, 30)
  const counter = new UsageCounter(() => now)
  counter.call('/v1/me', 'network')
  counter.call('/v1/tracks/abc?market=SE', 'network')
  counter.answered('/v1/tracks/abc', { source: 'cache' })
  counter.answered('/v1/tracks/def', { source: 'merged' })
  counter.answered('/v1/me', {})
  counter.limited('quota')
  counter.refreshed()
  const first = counter.snapshot()
  t.same(first.hour, {
    calls: { '/v1/me': { network: 1 }, '/v1/tracks/{id}': { network: 1, cache: 1, merged: 1 } },
    networkCalls: 2,
    rateLimited: { rate: 0, quota: 1 },
    refreshes: 1
  })

  now += 59 * 60_000
  t.equal(counter.snapshot().hour.networkCalls, 2, '59 minutes later: still in the hour')
  now += 60_000
  counter.call('/v1/me', 'network')
  t.same(counter.snapshot().hour.calls, { '/v1/me': { network: 1 } }, 'an hour later: only the new call')
  t.equal(counter.snapshot().day.networkCalls, 3, 'the day still holds all three')

  now += 23 * 60 * 60_000
  counter.limited('rate')
  t.same(counter.snapshot().day.rateLimited, { rate: 1, quota: 0 }, 'a day after the first minute: its bucket is gone')
  t.equal(counter.snapshot().day.networkCalls, 1)

  // A day later the same slot of the ring comes round: reused, not added.
  now += 24 * 60 * 60_000
  for (let i = 0; i < 1000; i++) counter.call(`/v1/tracks/id${i}`, 'network')
  const flooded = counter.snapshot()
  t.same(Object.keys(flooded.day.calls), ['/v1/tracks/{id}'], '1000 distinct ids: one template')
  t.equal(flooded.day.networkCalls, 1000, 'and nothing left from the day before')
})
