/**
 * A scripted day of a single-page app through the proxy, with the response
 * cache and merged requests on and off, side by side: how many calls reach
 * Spotify (the emulator counts them), stale reads after the app's own
 * writes, and the cost of a cache hit against a miss.
 *
 *   npx tsx bench/quota.ts
 *
 * In one process, with `app.inject` and the emulator on loopback: the
 * numbers compare the two settings; bench/run.ts measures the proxy over
 * real sockets against @fastify/http-proxy. Time moves by a held clock, so
 * a "day" takes seconds.
 */
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import spotifyAuth from '../plugin/index.js'
import { albums, createSpotifyEmulator, playlists, type SpotifyEmulator } from '../plugin/emulator/index.js'

const CLIENT_ID = 'bench-client'
const CLIENT_SECRET = 'bench-secret'
const REDIRECT_URI = 'http://127.0.0.1:5543/callback'
const ORIGIN = 'http://127.0.0.1:5543'

const realNow = Date.now
let offset = 0
Date.now = () => realNow() + offset

class Jar {
  cookies = new Map<string, string>()
  take (response: LightMyRequestResponse): void {
    for (const c of response.cookies as Array<{ name: string, value: string }>) {
      if (c.value === '') this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
  }

  get header (): string { return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ') }
}

interface Setup { app: FastifyInstance, emulator: SpotifyEmulator, jar: Jar }

async function setup (cache: boolean, maxStale?: number): Promise<Setup> {
  const emulator = await createSpotifyEmulator({
    autoApprove: true,
    recordRequests: 100_000,
    now: () => Date.now(),
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }]
  })
  const app = Fastify()
  await app.register(spotifyAuth, {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    secret: 'a-bench-secret-of-at-least-32-characters',
    scopes: ['user-read-private', 'playlist-read-private', 'playlist-modify-public', 'playlist-modify-private'],
    accountsUrl: emulator.url,
    apiUrl: emulator.url,
    ...(cache ? (maxStale === undefined ? {} : { cache: { maxStale } }) : { cache: false })
  })
  await app.ready()
  return { app, emulator, jar: await login(app) }
}

/** A session of its own: a browser's cookie jar after the whole login. */
async function login (app: FastifyInstance): Promise<Jar> {
  const jar = new Jar()
  const start = await app.inject({ url: '/login' })
  jar.take(start)
  const authorize = await fetch(start.headers.location as string, { redirect: 'manual' })
  const back = new URL(authorize.headers.get('location') as string)
  jar.take(await app.inject({ url: `${back.pathname}${back.search}`, headers: { cookie: jar.header } }))
  return jar
}

/**
 * Answers crossing sessions: a second session reads the screen just after
 * the first one did (well within any max-stale, and an album fresh for two hours); each of its reads must
 * still reach Spotify, or it was answered from the first session's entries.
 */
async function crossings (s: Setup): Promise<number> {
  const other: Setup = { ...s, jar: await login(s.app) }
  const screen = ['me', 'me/playlists', `albums/${albums[0]!.id}`]
  await Promise.all(screen.map((url) => get(s, url)))
  const before = s.emulator.control.counters.api
  await Promise.all(screen.map((url) => get(other, url, 'max-stale')))
  return screen.length - (s.emulator.control.counters.api - before)
}

function get ({ app, jar }: Setup, url: string, cacheControl?: string): Promise<LightMyRequestResponse> {
  return app.inject({ url: `/spotify/${url}`, headers: { cookie: jar.header, ...(cacheControl === undefined ? {} : { 'cache-control': cacheControl }) } })
}

/** The day; returns stale reads seen after the app's own writes. */
async function day (s: Setup, pollMaxStale?: number): Promise<number> {
  const playlist = playlists.find((p) => p.ownerId === 'alice' && p.public)!.id
  const album = albums[0]!.id
  const screen = ['me', 'me/playlists', `playlists/${playlist}/items?limit=50`]
  let stale = 0
  let added = 0
  for (let hour = 0; hour < 8; hour++) {
    // Mount, then a remount within a second: the same three GETs twice.
    await Promise.all(screen.map((url) => get(s, url)))
    offset += 400
    await Promise.all(screen.map((url) => get(s, url)))
    // Two tabs open at once.
    await Promise.all([...screen, ...screen].map((url) => get(s, url)))
    // An album page, opened twice.
    await get(s, `albums/${album}`)
    await get(s, `albums/${album}`)
    // A revisit after a minute.
    offset += 60_000
    await Promise.all(screen.map((url) => get(s, url)))
    // A playlist edit and its re-read.
    const before = (await get(s, screen[2]!)).json().total as number
    const wrote = await s.app.inject({ method: 'POST', url: `/spotify/playlists/${playlist}/items`, headers: { cookie: s.jar.header, origin: ORIGIN, 'content-type': 'application/json' }, payload: { uris: [`spotify:track:${nextTrack()}`] } })
    if (wrote.statusCode === 201) added++
    const after = (await get(s, screen[2]!)).json().total as number
    if (wrote.statusCode === 201 && after !== before + 1) stale++
    // A background job polling every minute for the rest of the hour.
    for (let minute = 0; minute < 58; minute++) {
      offset += 60_000
      await get(s, 'me/playlists', pollMaxStale === undefined ? undefined : `max-stale=${pollMaxStale}`)
    }
  }
  if (added === 0) throw new Error('bench: no playlist edit succeeded')
  return stale
}

let trackCursor = 0
function nextTrack (): string {
  const all = playlists.flatMap((p) => p.items.map((item) => item.trackId))
  return all[trackCursor++ % all.length] as string
}

async function rate (s: Setup, url: string, count: number): Promise<{ rps: number, meanMs: number }> {
  await get(s, url)
  const started = process.hrtime.bigint()
  for (let i = 0; i < count; i++) await get(s, url)
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  return { rps: Math.round(count / (ms / 1000)), meanMs: Math.round((ms / count) * 1000) / 1000 }
}

interface Variant { name: string, cache: boolean, maxStale?: number, pollMaxStale?: number, userMaxAge?: number }

const VARIANTS: Variant[] = [
  { name: 'off', cache: false },
  // RFC 9111 without the app's standing max-stale: every stale read revalidated.
  { name: 'on, maxStale 0', cache: true, maxStale: 0 },
  { name: 'on', cache: true },
  // Away from multiples of the minute the day moves by: a poll exactly
  // 60 s after the last one is 60 s stale plus the real milliseconds in between.
  { name: 'on, maxStale 30', cache: true, maxStale: 30 },
  { name: 'on, maxStale 90', cache: true, maxStale: 90 },
  { name: 'on, maxStale 180', cache: true, maxStale: 180 },
  // The default, and the polling job's own requests allow three minutes.
  { name: 'on, job sends max-stale=180', cache: true, pollMaxStale: 180 },
  // What the same day would cost if Spotify let a private cache keep user data for a minute.
  { name: 'on, user data max-age=60', cache: true, userMaxAge: 60 }
]

const rows: Array<Record<string, string | number>> = []
const dayCalls: Record<string, number> = {}
const rates: Record<string, { rps: number, meanMs: number }> = {}
for (const variant of VARIANTS) {
  const s = await setup(variant.cache, variant.maxStale)
  if (variant.userMaxAge !== undefined) s.emulator.control.setApiResponseHeaders({ 'cache-control': `private, max-age=${variant.userMaxAge}` })
  s.emulator.control.resetCounters()
  s.emulator.control.clearApiRequests()
  const stale = await day(s, variant.pollMaxStale)
  const calls = s.emulator.control.counters.api
  const revalidations = s.emulator.control.apiRequests.filter((r) => r.headers['if-none-match'] !== undefined).length
  dayCalls[variant.name] = calls
  rows.push({
    'cache+merge': variant.name,
    'calls to Spotify': calls,
    'of which revalidations': revalidations,
    'stale reads after own writes': stale,
    'answers crossing sessions': await crossings(s)
  })
  if (variant.name === 'off' || variant.name === 'on') rates[variant.name] = await rate(s, `albums/${albums[0]!.id}`, 2000)
  await s.app.close()
  await s.emulator.close()
}
Date.now = realNow
console.log('A scripted day of a single-page app through the proxy (8 hours: mounts, remounts, two tabs, an album page, a revisit, a playlist edit and its re-read, a job polling every minute)')
console.table(rows)
const saved = (name: string): number => Math.round((1 - (dayCalls[name] as number) / (dayCalls.off as number)) * 100)
console.log(`calls saved by the cache and merging: ${saved('on')}% (default maxStale), ${saved('on, job sends max-stale=180')}% when the polling job allows three minutes, ${saved('on, user data max-age=60')}% with a minute of freshness for user data`)
console.table({
  'uncached proxy GET (cache off)': rates.off,
  'cache hit through the proxy': rates.on
})
console.log(`a cache hit serves ${((rates.on as { rps: number }).rps / (rates.off as { rps: number }).rps).toFixed(2)}x the requests per second of an uncached proxy call (in one process, app.inject, emulator on loopback)`)
