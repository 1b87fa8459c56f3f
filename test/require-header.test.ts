import t from 'tap'
import { build, SCOPES } from './helpers/build.js'

/*
 * requireHeader: the proxy, the session routes and the playback token
 * route answer only requests carrying the app's custom header, refused
 * with 403 before the session is read or Spotify is called.
 */

const HEADER = 'x-spotify-auth'

t.test('every proxy, session-route and playback-token request needs the header', async (t) => {
  const built = await build(t, { plugin: { requireHeader: 'X-Spotify-Auth', scopes: [...SCOPES, 'streaming'], playbackTokenPath: '/spotify-token' } })
  const { jar } = await built.login()
  built.emulator.control.resetCounters()
  const routes: Array<[string, string]> = [
    ['GET', '/spotify/me'],
    ['HEAD', '/spotify/me'],
    ['PUT', '/spotify/me/player/pause'],
    ['POST', '/spotify/me/player/next'],
    ['GET', '/session'],
    ['GET', '/session/devices'],
    ['DELETE', '/session/devices/AAAAAAAAAAAAAAAAAAAAAA'],
    ['POST', '/session/devices/end-others'],
    ['GET', '/spotify-token']
  ]
  for (const [method, url] of routes) {
    const refused = await built.request(jar, { method, url })
    t.equal(refused.statusCode, 403, `${method} ${url} without the header`)
    if (method !== 'HEAD') {
      t.equal(refused.json().error.code, 'FST_SPOTIFY_MISSING_HEADER')
      t.match(refused.json().error.message, /x-spotify-auth/)
    }
    const empty = await built.request(jar, { method, url, headers: { [HEADER]: '' } })
    t.equal(empty.statusCode, 403, `${method} ${url} with an empty one`)
  }
  t.equal(built.emulator.control.counters.api, 0, 'no call reached Spotify')
  t.equal(built.emulator.control.counters.refresh_token, 0)
  t.equal((await built.app.spotify.sessionsOf('alice')).length, 1, 'nothing was ended')

  for (const [method, url, status] of [['GET', '/spotify/me', 200], ['GET', '/session', 200], ['GET', '/session/devices', 200], ['GET', '/spotify-token', 200], ['POST', '/session/devices/end-others', 200]] as const) {
    const answered = await built.request(jar, { method, url, headers: { [HEADER]: '1' } })
    t.equal(answered.statusCode, status, `${method} ${url} with the header`)
  }
  // The login, the callback and logout are navigations and form posts: no header there.
  t.equal((await built.request(jar, { method: 'POST', url: '/logout' })).statusCode, 303)
})

t.test('without the option, no header is needed', async (t) => {
  const built = await build(t)
  const { jar } = await built.login()
  t.equal((await built.request(jar, { url: '/spotify/me' })).statusCode, 200)
  t.equal((await built.request(jar, { url: '/session' })).statusCode, 200)
})

t.test('requireHeader must be a custom header name', async (t) => {
  for (const requireHeader of ['', 'x spotify', 'content-type', 'Cookie', 'sec-fetch-site', 'proxy-authorization', 42, 'x-'.padEnd(70, 'a')]) {
    await t.rejects(build(t, { plugin: { requireHeader: requireHeader as string } }), { code: 'FST_SPOTIFY_INVALID_OPTION', message: /options\.requireHeader/ }, String(requireHeader))
  }
})
