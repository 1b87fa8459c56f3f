import { once } from 'node:events'
import { createServer } from 'node:net'
import t from 'tap'
import { Redis } from 'ioredis'
import { buildDemo, loggerOptions, type Demo } from '../demo/app.js'
import { startupErrorMessage, startupLine } from '../demo/startup.js'
import { DemoConfigError } from '../demo/config.js'
import { REDIS_PREFIX } from '../demo/store.js'
import { DEFAULT_CLIENT_SECRET } from '../plugin/emulator/index.js'
import type { SpotifyToken } from '../plugin/index.js'
import { Browser, freePort, SESSION_SECRET, startDemo, testConfig } from './helpers/demo.js'

t.test('loggerOptions: pino-pretty for a terminal, JSON lines otherwise', async (t) => {
  t.same(loggerOptions('debug', true), {
    level: 'debug',
    transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } }
  })
  t.same(loggerOptions('warn', false), { level: 'warn' })
  const stream = { write () {} }
  t.same(loggerOptions('info', false, stream), { level: 'info', stream })
  const pretty = await import('pino-pretty')
  t.type(pretty.default, 'function', 'pino-pretty is installed')
})

t.test('startupLine: the URL to open, and what the demo runs on', async (t) => {
  const config = testConfig()
  const onEmulator = { emulator: { url: 'http://127.0.0.1:40000' }, store: { description: 'in memory' } } as unknown as Demo
  t.equal(startupLine(config, onEmulator),
    'fastify-spotify-auth demo: open http://127.0.0.1:5543/ (offline, on the Spotify emulator at http://127.0.0.1:40000: no Spotify account needed; sessions in memory)')
  const onSpotify = { emulator: undefined, store: { description: 'in Redis at redis://127.0.0.1:6379' } } as unknown as Demo
  t.equal(startupLine(config, onSpotify),
    'fastify-spotify-auth demo: open http://127.0.0.1:5543/ (on real Spotify; sessions in Redis at redis://127.0.0.1:6379)')
})

t.test('startupErrorMessage: one line saying what to fix', async (t) => {
  const config = { host: '127.0.0.1', port: 5543 }
  t.equal(startupErrorMessage(new DemoConfigError('PORT must be…'), undefined), 'PORT must be…')
  const listen = (code: string): Error => Object.assign(new Error(`listen ${code}: 127.0.0.1:5543`), { code })
  t.equal(startupErrorMessage(listen('EADDRINUSE'), config),
    'port 5543 on 127.0.0.1 is already in use: stop what runs there, or set PORT to a free port')
  t.equal(startupErrorMessage(listen('EACCES'), config), 'not allowed to listen on port 5543 on 127.0.0.1: set PORT to a port above 1023')
  t.equal(startupErrorMessage(listen('EADDRNOTAVAIL'), config),
    'HOST 127.0.0.1 is not an address of this machine: use 127.0.0.1, or 0.0.0.0 for every interface')
  t.equal(startupErrorMessage(listen('EADDRINUSE'), undefined), 'listen EADDRINUSE: 127.0.0.1:5543')
  t.equal(startupErrorMessage(new Error('first line\n    at somewhere'), config), 'first line')
  t.equal(startupErrorMessage('a string', config), 'a string')
})

t.test('a build that fails closes what it started', async (t) => {
  const port = await freePort()
  const config = { ...testConfig(), sessionSecret: 'short' }
  const failure = await buildDemo(config, { emulator: { port } }).catch((err: unknown) => err)
  t.match(failure, { code: 'FST_SPOTIFY_INVALID_OPTION' })
  t.equal(startupErrorMessage(failure, config), 'fastify-spotify-auth: options.secret must be at least 32 characters')
  const server = createServer().listen(port, '127.0.0.1')
  await once(server, 'listening')
  t.pass('the emulator port is free again')
  server.close()
})

t.test('a whole session at trace level logs no token, code, state, cookie or secret', async (t) => {
  const lines: string[] = []
  const demo = await startDemo(t, { LOG_LEVEL: 'trace' }, { emulator: { autoApprove: true }, logStream: { write: (line) => { lines.push(line) } } })
  const browser = new Browser(demo.app)
  const authorize = await fetch(await browser.startLogin(), { redirect: 'manual' })
  const callback = new URL(authorize.headers.get('location') as string)
  await browser.back(callback.href)
  const cookie = browser.cookies.get('spotify_session') as string
  const sessionId = browser.sessionId
  const first = await demo.app.spotify.store.get(browser.sessionId) as SpotifyToken
  await browser.request({ url: '/' })
  await browser.request({ url: '/demo/token-info', html: false })
  await browser.request({ url: '/spotify/me/playlists?limit=6', html: false })
  await browser.request({ method: 'POST', url: '/demo/refresh', html: false })
  const second = await demo.app.spotify.store.get(browser.sessionId) as SpotifyToken
  await browser.request({ method: 'POST', url: '/logout', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })

  const log = lines.join('')
  t.ok(lines.length > 10, `${lines.length} log lines`)
  const secrets = {
    code: callback.searchParams.get('code') as string,
    state: callback.searchParams.get('state') as string,
    cookie,
    sessionId,
    accessToken: first.accessToken,
    refreshToken: first.refreshToken,
    refreshedAccessToken: second.accessToken,
    sessionSecret: SESSION_SECRET,
    clientSecret: DEFAULT_CLIENT_SECRET
  }
  for (const [name, value] of Object.entries(secrets)) {
    t.ok(value.length > 8, `${name} is known`)
    t.notOk(log.includes(value), `no ${name} in the logs`)
  }
})

t.test('REDIS_URL: sessions live in Redis', async (t) => {
  const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  redis.on('error', () => {})
  try {
    await redis.connect()
  } catch (err) {
    redis.disconnect()
    const message = `Redis is not reachable at ${url} (${(err as Error).message})`
    if (process.env.CI !== undefined) {
      t.fail(`${message}: CI must run the demo's Redis test`)
    } else {
      const loud = `!!! SKIPPED: ${message}. Start redis-server on 127.0.0.1:6379 to test the demo with REDIS_URL.`
      t.comment(loud)
      t.skip(loud, () => {})
    }
    return
  }
  t.teardown(async () => {
    const keys = await redis.keys(`${REDIS_PREFIX}*`)
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
  })

  const demo = await startDemo(t, { REDIS_URL: url })
  t.equal(demo.store.description, `in Redis at ${new URL(url).protocol}//${new URL(url).host}`)
  const before = new Set(await redis.keys(`${REDIS_PREFIX}s:*`))
  const browser = new Browser(demo.app)
  await browser.login()
  const added = (await redis.keys(`${REDIS_PREFIX}s:*`)).filter((key) => !before.has(key))
  t.equal(added.length, 1, 'one record for the session')
  t.equal(await browser.loggedInAs(), 'Alice Andersson')
  t.equal((await browser.request({ method: 'POST', url: '/demo/refresh', html: false })).json().refreshes, 1)
  await browser.request({ method: 'POST', url: '/logout', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })
  t.equal(await redis.exists(added[0] as string), 0, 'logout deleted it')
})

t.test('REDIS_URL without a Redis there stops start-up with one line', async (t) => {
  const port = await freePort()
  const lines: string[] = []
  const failure = await buildDemo(testConfig({ REDIS_URL: `redis://:pa55word@127.0.0.1:${port}`, LOG_LEVEL: 'warn' }), {
    logStream: { write: (line) => { lines.push(line) } }
  }).catch((err: unknown) => err)
  t.type(failure, DemoConfigError)
  t.equal((failure as Error).message,
    `REDIS_URL: no Redis answers at redis://127.0.0.1:${port}: start redis-server there, or unset REDIS_URL to keep sessions in memory`)
  t.match(lines.join(''), /ECONNREFUSED/, 'the reason is logged')
  t.notMatch(lines.join(''), /pa55word/, 'never the password')
})
