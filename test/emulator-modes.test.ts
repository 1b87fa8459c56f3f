import t from 'tap'
import {
  PREMIUM_REQUIRED, USER_NOT_REGISTERED, albums, artists, categories, createSpotifyEmulator, playlists, tracks, users, type FixturePlaylist
} from '../plugin/emulator/index.js'
import { api, start } from './helpers/emulator-helpers.js'

function byName (ownerId: string, name: string): FixturePlaylist {
  return playlists.find((p) => p.ownerId === ownerId && p.name === name)!
}

const long = byName('alice', 'Everything, Long')

/** Endpoints Spotify removed for Development Mode apps, with a request each. */
const REMOVED: Array<[method: string, path: string]> = [
  ['GET', '/v1/users/carol'],
  ['GET', '/v1/users/carol/playlists'],
  ['POST', '/v1/users/alice/playlists'],
  ['GET', `/v1/tracks?ids=${tracks[0]!.id}`],
  ['GET', `/v1/albums?ids=${albums[0]!.id}`],
  ['GET', `/v1/artists?ids=${artists[0]!.id}`],
  ['GET', '/v1/browse/new-releases'],
  ['GET', '/v1/browse/categories'],
  ['GET', `/v1/browse/categories/${categories[0]!.id}`],
  ['GET', `/v1/artists/${artists[0]!.id}/top-tracks`],
  ['GET', `/v1/playlists/${long.id}/tracks`],
  ['POST', `/v1/playlists/${long.id}/tracks`],
  ['PUT', `/v1/playlists/${long.id}/tracks`],
  ['DELETE', `/v1/playlists/${long.id}/tracks`]
]

t.test('Development Mode is the default and answers 403 Forbidden on the removed endpoints', async (t) => {
  const emulator = await start(t)
  t.equal(emulator.mode, 'development')
  const token = emulator.control.issueTokens('alice', ['playlist-modify-public', 'playlist-modify-private']).access_token
  for (const [method, path] of REMOVED) {
    const res = await api(emulator, path, token, { method, body: method === 'GET' ? undefined : '{"name":"x"}' })
    t.equal(res.status, 403, `${method} ${path}`)
    t.same(res.json, { error: { status: 403, message: 'Forbidden' } }, `${method} ${path}`)
  }
})

t.test('Extended Quota Mode serves the removed endpoints', async (t) => {
  const emulator = await start(t, { mode: 'extended' })
  t.equal(emulator.mode, 'extended')
  const token = emulator.control.issueTokens('alice', ['playlist-modify-public', 'playlist-modify-private']).access_token
  for (const [method, path] of REMOVED) {
    const body = method === 'POST' && path.includes('/users/')
      ? '{"name":"x"}'
      : method === 'POST' || method === 'PUT'
        ? JSON.stringify({ uris: [`spotify:track:${tracks[0]!.id}`] })
        : method === 'DELETE' ? JSON.stringify({ items: [{ uri: `spotify:track:${tracks[0]!.id}` }] }) : undefined
    const res = await api(emulator, path, token, { method, body })
    t.ok(res.status === 200 || res.status === 201, `${method} ${path}: ${res.status}`)
  }
})

t.test('Extended Quota Mode keeps the older fields', async (t) => {
  const emulator = await start(t, { mode: 'extended' })
  const profile = async (user: string, scopes: string[]): Promise<any> => (await api(emulator, '/v1/me', emulator.control.issueTokens(user, scopes).access_token)).json

  const bare = await profile('alice', [])
  t.match(bare, { followers: { href: null, total: 128 }, account_id: /^[0-9A-Za-z]{22}$/ })
  t.notOk('email' in bare || 'country' in bare)
  const email = await profile('alice', ['user-read-email'])
  t.equal(email.email, 'alice@example.com')
  t.notOk('country' in email)
  const priv = await profile('alice', ['user-read-private'])
  t.notOk('email' in priv)
  t.match(priv, { country: 'SE', product: 'premium', explicit_content: { filter_enabled: false, filter_locked: false } })
  t.equal((await profile('bob', ['user-read-private'])).product, 'free')

  const bob = emulator.control.issueTokens('bob', []).access_token
  const playlist = (await api(emulator, `/v1/playlists/${long.id}`, bob)).json
  t.match(playlist, {
    items: { href: `${emulator.url}/v1/playlists/${long.id}/items?offset=0&limit=50`, total: 130 },
    tracks: { href: `${emulator.url}/v1/playlists/${long.id}/tracks?offset=0&limit=100`, total: 130 }
  })
  t.match(playlist.items.items[0].item, { popularity: Number, available_markets: Array })
  const entries = await api(emulator, `/v1/playlists/${long.id}/items`, bob)
  t.equal(entries.status, 200, 'any public playlist\'s entries, not only one\'s own')
  const old = (await api(emulator, `/v1/playlists/${long.id}/tracks?limit=100&offset=100`, bob)).json
  t.equal(old.items.length, 30, '/tracks keeps its limit of 100')
  t.equal(old.previous, `${emulator.url}/v1/playlists/${long.id}/tracks?offset=0&limit=100`)
  t.equal((await api(emulator, `/v1/playlists/${long.id}/items?limit=100`, bob)).status, 400, '/items has 50')

  const listing = (await api(emulator, '/v1/me/playlists', bob)).json.items[0]
  t.match(listing, { items: { href: String, total: Number }, tracks: { href: `${emulator.url}/v1/playlists/${listing.id}/tracks`, total: Number } })
  const edit = await api(emulator, `/v1/playlists/${long.id}/tracks`, bob, { method: 'POST', body: JSON.stringify({ uris: [`spotify:track:${tracks[0]!.id}`] }) })
  t.same(edit.json, { error: { status: 403, message: 'Forbidden' } }, 'editing still needs ownership')
})

t.test('Extended Quota Mode: other users\' profiles and playlists', async (t) => {
  const emulator = await start(t, { mode: 'extended' })
  const token = emulator.control.issueTokens('alice', ['user-read-private', 'user-read-email', 'playlist-modify-public', 'playlist-read-private']).access_token
  const carol = await api(emulator, '/v1/users/carol', token)
  t.match(carol.json, { display_name: 'Carol Chen', followers: { total: 2048 } })
  t.notOk('email' in carol.json)
  t.same((await api(emulator, '/v1/users/nobody', token)).json, { error: { status: 404, message: 'Resource not found' } })
  t.equal((await api(emulator, '/v1/users/nobody/playlists', token)).status, 404)

  const carols = (await api(emulator, '/v1/users/carol/playlists?limit=20', token)).json
  t.ok(carols.items.every((p: any) => p.public), 'another user\'s listing shows public playlists only')
  t.equal(carols.next, `${emulator.url}/v1/users/carol/playlists?offset=20&limit=20`)
  const own = (await api(emulator, '/v1/users/alice/playlists?limit=50', token)).json
  t.ok(own.items.some((p: any) => !p.public), 'one\'s own listing follows the scopes, as /me/playlists does')

  const other = await api(emulator, '/v1/users/bob/playlists', token, { method: 'POST', body: '{"name":"x"}' })
  t.same(other.json, { error: { status: 403, message: 'You cannot create a playlist for another user' } })
  const mine = await api(emulator, '/v1/users/alice/playlists', token, { method: 'POST', body: '{"name":"Mine"}' })
  t.equal(mine.status, 201)
})

t.test('Extended Quota Mode: batch lookups, browse and top tracks', async (t) => {
  const emulator = await start(t, { mode: 'extended' })
  const token = emulator.control.issueAppToken().access_token
  const ids = tracks.slice(0, 3).map((x) => x.id).join(',')
  t.same((await api(emulator, `/v1/tracks?ids=${ids}`, token)).json.tracks.map((x: any) => x.id), tracks.slice(0, 3).map((x) => x.id))
  t.equal((await api(emulator, `/v1/albums?ids=${albums[1]!.id}`, token)).json.albums[0].name, albums[1]!.name)
  t.equal((await api(emulator, `/v1/artists?ids=${artists[2]!.id},${artists[3]!.id}`, token)).json.artists.length, 2)
  const errors: Array<[string, string]> = [
    ['/v1/tracks', 'Missing required parameter: ids'],
    ['/v1/tracks?ids=,', 'Missing required parameter: ids'],
    [`/v1/albums?ids=${Array(21).fill(albums[0]!.id).join(',')}`, 'Too many ids requested'],
    [`/v1/artists?ids=${artists[0]!.id},0000000000000000000000`, 'Invalid id']
  ]
  for (const [path, message] of errors) t.same((await api(emulator, path, token)).json, { error: { status: 400, message } }, path)

  const releases = (await api(emulator, '/v1/browse/new-releases?limit=3', token)).json.albums
  t.same(releases.items.map((a: any) => a.release_date), [...albums].map((a) => a.release_date).sort().reverse().slice(0, 3))
  t.equal(releases.next, `${emulator.url}/v1/browse/new-releases?offset=3&limit=3`)
  const cats = (await api(emulator, '/v1/browse/categories', token)).json.categories
  t.equal(cats.total, categories.length)
  t.same((await api(emulator, cats.items[0].href.slice(emulator.url.length), token)).json, cats.items[0])
  t.equal((await api(emulator, '/v1/browse/categories/nope', token)).status, 404)
  for (const path of ['/v1/browse/new-releases?limit=0', '/v1/browse/categories?limit=51']) {
    t.same((await api(emulator, path, token)).json, { error: { status: 400, message: 'Invalid limit' } }, path)
  }

  const top = (await api(emulator, `/v1/artists/${artists[0]!.id}/top-tracks`, token)).json.tracks
  t.ok(top.length > 0 && top.length <= 10)
  t.ok(top.every((x: any) => x.artists.some((a: any) => a.id === artists[0]!.id)))
  t.same(top.map((x: any) => x.popularity), top.map((x: any) => x.popularity).sort((a: number, b: number) => b - a), 'most popular first')
  t.equal((await api(emulator, '/v1/artists/0000000000000000000000/top-tracks', token)).status, 404)
})

t.test('the app owner must have Premium in Development Mode', async (t) => {
  const emulator = await start(t)
  const user = emulator.control.issueTokens('bob', []).access_token
  const app = emulator.control.issueAppToken().access_token
  emulator.control.setOwnerPremium(false)
  for (const token of [user, app]) {
    const res = await api(emulator, `/v1/tracks/${tracks[0]!.id}`, token)
    t.equal(res.status, 403)
    t.same(res.json, { error: { status: 403, message: PREMIUM_REQUIRED } })
  }
  t.equal(PREMIUM_REQUIRED, 'Active premium subscription required for the owner of the app')
  t.equal((await api(emulator, '/v1/me')).status, 401, 'the token is checked first')
  emulator.control.setOwnerPremium(true)
  t.equal((await api(emulator, '/v1/me', user)).status, 200)

  const extended = await start(t, { mode: 'extended' })
  extended.control.setOwnerPremium(false)
  t.equal((await api(extended, '/v1/me', extended.control.issueTokens('bob', []).access_token)).status, 200, 'Extended Quota Mode has no such rule')
})

t.test('only users on the allow-list get through in Development Mode', async (t) => {
  const emulator = await start(t, { allowList: ['alice', 'carol'] })
  const bob = emulator.control.issueTokens('bob', []).access_token
  const res = await api(emulator, '/v1/me', bob)
  t.equal(res.status, 403)
  t.match(res.headers.get('content-type'), /^text\/plain/)
  t.equal(res.text, USER_NOT_REGISTERED)
  t.equal(USER_NOT_REGISTERED, 'User not registered in the Developer Dashboard')
  t.equal((await api(emulator, `/v1/tracks/${tracks[0]!.id}`, emulator.control.issueAppToken().access_token)).status, 200, 'app tokens have no user to check')

  emulator.control.allowUser('bob')
  t.equal((await api(emulator, '/v1/me', bob)).status, 200)
  emulator.control.disallowUser('alice')
  t.equal((await api(emulator, '/v1/me', emulator.control.issueTokens('alice', []).access_token)).text, USER_NOT_REGISTERED)
  t.throws(() => emulator.control.allowUser('mallory'), /unknown user mallory/)

  const extended = await start(t, { mode: 'extended', allowList: [] })
  t.equal((await api(extended, '/v1/me', extended.control.issueTokens('bob', []).access_token)).status, 200, 'Extended Quota Mode has no allow-list')
})

t.test('the allow-list holds at most five users in Development Mode; frank is off it by default', async (t) => {
  const emulator = await start(t)
  const frank = emulator.control.issueTokens('frank', []).access_token
  t.equal((await api(emulator, '/v1/me', frank)).text, USER_NOT_REGISTERED)
  t.throws(() => emulator.control.allowUser('frank'), /at most 5 users/)
  emulator.control.allowUser('alice')
  t.pass('a user already on the list takes no new place')
  emulator.control.disallowUser('erin')
  emulator.control.allowUser('frank')
  t.equal((await api(emulator, '/v1/me', frank)).status, 200)

  const all = users.map((u) => u.id)
  await t.rejects(createSpotifyEmulator({ allowList: all }), /options\.allowList may name at most 5 users in development mode/)
  const extended = await start(t, { mode: 'extended', allowList: all })
  extended.control.allowUser('frank')
  t.equal(extended.mode, 'extended', 'Extended Quota Mode has no cap')
  await t.rejects(createSpotifyEmulator({ allowList: ['alice', 'mallory'] }), /options\.allowList must be an array of fixture user ids/)
  await t.rejects(createSpotifyEmulator({ allowList: 'alice' as unknown as string[] }), /options\.allowList must be an array/)
  await t.rejects(createSpotifyEmulator({ mode: 'sandbox' as 'extended' }), /options\.mode must be 'development' or 'extended'/)
})
