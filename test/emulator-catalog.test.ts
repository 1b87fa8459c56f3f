import t from 'tap'
import { albums, artists, playlists, tracks } from '../plugin/emulator/index.js'
import { api, call, start } from './helpers/emulator-helpers.js'

t.test('one track, album (with its tracks) or artist', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('bob', []).access_token
  const track = (await api(emulator, `/v1/tracks/${tracks[0]!.id}`, token)).json
  t.match(track, { id: tracks[0]!.id, name: tracks[0]!.name, external_ids: { isrc: tracks[0]!.isrc }, album: { id: albums[0]!.id } })
  t.notOk('popularity' in track || 'available_markets' in track, 'Development Mode tracks')

  const album = (await api(emulator, `/v1/albums/${albums[0]!.id}`, token)).json
  t.match(album, { id: albums[0]!.id, label: String, tracks: { total: albums[0]!.total_tracks, href: `${emulator.url}/v1/albums/${albums[0]!.id}/tracks?offset=0&limit=50` } })
  const listing = (await api(emulator, `/v1/albums/${albums[0]!.id}/tracks?limit=2&offset=2`, token)).json
  t.same(listing.items.map((x: any) => x.track_number), [3, 4])
  t.equal(listing.next, `${emulator.url}/v1/albums/${albums[0]!.id}/tracks?offset=4&limit=2`)
  t.same((await api(emulator, `/v1/albums/${albums[0]!.id}/tracks?limit=51`, token)).json, { error: { status: 400, message: 'Invalid limit' } })

  const artist = (await api(emulator, `/v1/artists/${artists[1]!.id}`, token)).json
  t.match(artist, { id: artists[1]!.id, name: artists[1]!.name, type: 'artist' })

  for (const path of ['/v1/tracks/x', '/v1/albums/x', '/v1/albums/x/tracks', '/v1/artists/x']) {
    t.same((await api(emulator, path, token)).json, { error: { status: 404, message: 'Resource not found' } }, path)
  }
})

t.test('search pages through every match with absolute links', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueAppToken().access_token
  const first = (await api(emulator, '/v1/search?q=a&type=track', token)).json
  t.same(Object.keys(first), ['tracks'])
  t.equal(first.tracks.limit, 5, 'five per type by default')
  t.ok(first.tracks.total > 20, 'enough matches for many pages')

  const seen: string[] = []
  let next: string | null = `${emulator.url}/v1/search?q=a&type=track&limit=10`
  let pages = 0
  while (next !== null) {
    const page: any = (await call(next, { headers: { authorization: `Bearer ${token}` } })).json.tracks
    seen.push(...page.items.map((x: any) => x.id))
    next = page.next
    pages++
  }
  t.equal(pages, Math.ceil(first.tracks.total / 10))
  t.equal(new Set(seen).size, first.tracks.total, 'each match once')

  const several = (await api(emulator, '/v1/search?q=glass%20weather&type=album,artist,track,playlist', token)).json
  t.same(Object.keys(several).sort(), ['albums', 'artists', 'playlists', 'tracks'])
  t.same(several.albums.items.map((a: any) => a.name), ['Glass Weather'])
  t.ok(several.tracks.items.every((x: any) => x.album.name === 'Glass Weather'), 'tracks match by album name too')
  t.equal(several.artists.total, 0)

  const byArtist = (await api(emulator, `/v1/search?q=${encodeURIComponent('mira holt')}&type=track&limit=10`, token)).json.tracks
  t.ok(byArtist.total >= 5 && byArtist.items.every((x: any) => x.artists.some((a: any) => a.name === 'Mira Holt')))

  const lists = (await api(emulator, '/v1/search?q=focus&type=playlist&limit=10', token)).json.playlists
  const publicFocus = playlists.filter((p) => p.public && p.name.toLowerCase().includes('focus'))
  t.equal(lists.total, publicFocus.length, 'public playlists only')

  const errors: Array<[string, string]> = [
    ['type=track', 'No search query'],
    ['q=%20&type=track', 'No search query'],
    ['q=a', 'Missing parameter type'],
    ['q=a&type=show', 'Bad search type field'],
    ['q=a&type=track&limit=11', 'Invalid limit'],
    ['q=a&type=track&offset=1001', 'Invalid offset']
  ]
  for (const [query, message] of errors) {
    t.same((await api(emulator, `/v1/search?${query}`, token)).json, { error: { status: 400, message } }, query)
  }
})

t.test('top artists and tracks need user-top-read and follow the time range', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('alice', ['user-top-read']).access_token
  const medium = (await api(emulator, '/v1/me/top/tracks', token)).json
  t.equal(medium.href, `${emulator.url}/v1/me/top/tracks?time_range=medium_term&offset=0&limit=20`)
  t.equal(medium.items.length, 20)
  const short = (await api(emulator, '/v1/me/top/tracks?time_range=short_term&limit=50', token)).json
  const long = (await api(emulator, '/v1/me/top/tracks?time_range=long_term&limit=50', token)).json
  t.ok(short.total <= medium.total && medium.total <= long.total, 'longer ranges draw from more playlists')
  t.equal((await api(emulator, '/v1/me/top/tracks', token)).text, JSON.stringify(medium), 'the same every call')

  const artistsTop = (await api(emulator, '/v1/me/top/artists?limit=3', token)).json
  t.equal(artistsTop.items.length, 3)
  t.equal(artistsTop.items[0].type, 'artist')
  t.equal(artistsTop.next, `${emulator.url}/v1/me/top/artists?time_range=medium_term&offset=3&limit=3`)

  t.same((await api(emulator, '/v1/me/top/tracks?time_range=forever', token)).json, { error: { status: 400, message: 'Invalid time range' } })
  t.same((await api(emulator, '/v1/me/top/tracks?limit=0', token)).json, { error: { status: 400, message: 'Invalid limit' } })
  t.equal((await api(emulator, '/v1/me/top/albums', token)).status, 404)
  const without = emulator.control.issueTokens('alice', []).access_token
  t.same((await api(emulator, '/v1/me/top/artists', without)).json, { error: { status: 403, message: 'Insufficient client scope' } })
})

t.test('currently playing: a track from one of the user\'s own playlists, moving with the clock', async (t) => {
  let now = 1_800_000_000_000
  const emulator = await start(t, { now: () => now })
  const token = emulator.control.issueTokens('bob', ['user-read-currently-playing']).access_token
  const playing = (await api(emulator, '/v1/me/player/currently-playing', token)).json
  t.match(playing, { is_playing: true, currently_playing_type: 'track', timestamp: now, item: { type: 'track' }, context: { type: 'playlist' } })
  const playlist = (await call(playing.context.href, { headers: { authorization: `Bearer ${token}` } })).json
  t.equal(playlist.owner.id, 'bob')
  now += 1000
  const later = (await api(emulator, '/v1/me/player/currently-playing', token)).json
  t.equal(later.progress_ms, (playing.progress_ms + 1000) % playing.item.duration_ms)

  const state = emulator.control.issueTokens('bob', ['user-read-playback-state']).access_token
  t.equal((await api(emulator, '/v1/me/player/currently-playing', state)).status, 200, 'user-read-playback-state works too')
  const none = emulator.control.issueTokens('bob', []).access_token
  t.same((await api(emulator, '/v1/me/player/currently-playing', none)).json, { error: { status: 403, message: 'Insufficient client scope' } })
})

t.test('PUT and DELETE /me/library save and remove items of every kind; contains checks them', async (t) => {
  const emulator = await start(t)
  const scopes = ['user-library-modify', 'user-library-read', 'user-follow-modify', 'user-follow-read', 'playlist-modify-public', 'playlist-read-private']
  const token = emulator.control.issueTokens('bob', scopes).access_token
  const carolsPublic = playlists.find((p) => p.ownerId === 'carol' && p.public)!
  const uris = [`spotify:track:${tracks[3]!.id}`, `spotify:album:${albums[2]!.id}`, 'spotify:user:carol', `spotify:playlist:${carolsPublic.id}`]
  const contains = async (list: string[]): Promise<any> => (await api(emulator, `/v1/me/library/contains?uris=${list.join(',')}`, token)).json

  t.same(await contains(uris), [false, false, false, false])
  const saved = await api(emulator, `/v1/me/library?uris=${uris.join(',')}`, token, { method: 'PUT' })
  t.equal(saved.status, 200)
  t.equal(saved.text, '')
  t.same(await contains(uris), [true, true, true, true])
  await api(emulator, `/v1/me/library?uris=${uris[3]}`, token, { method: 'PUT' })
  const listing = (await api(emulator, '/v1/me/playlists?limit=50', token)).json
  t.equal(listing.items.filter((p: any) => p.id === carolsPublic.id).length, 1, 'a saved playlist is listed once')

  t.equal((await api(emulator, `/v1/me/library?uris=${uris.slice(0, 1).concat(uris.slice(3)).join(',')}`, token, { method: 'DELETE' })).status, 200)
  t.same(await contains(uris), [false, true, true, false])
  t.equal((await api(emulator, `/v1/me/library?uris=${uris[3]}`, token, { method: 'DELETE' })).status, 200, 'removing twice is fine')
  t.same(await contains([`spotify:artist:${artists[0]!.id}`]), [false], 'contains knows artists')

  const errors: Array<[string, string, number, string]> = [
    ['PUT', '', 400, 'Missing required parameter: uris'],
    ['PUT', `?uris=${Array(41).fill(uris[0]).join(',')}`, 400, 'Too many URIs: at most 40'],
    ['PUT', '?uris=spotify:thing:x', 400, 'Unsupported URI type'],
    ['PUT', `?uris=spotify:artist:${artists[0]!.id}`, 400, 'Unsupported URI type'],
    ['PUT', '?uris=spotify:track:0000000000000000000000', 400, 'Invalid URI'],
    ['PUT', '?uris=spotify:episode:0000000000000000000000', 400, 'Invalid URI'],
    ['DELETE', '?uris=spotify:user:mallory', 400, 'Invalid URI'],
    ['PUT', `?uris=spotify:playlist:${playlists.find((p) => p.ownerId === 'carol' && !p.public && !p.collaborative)!.id}`, 400, 'Invalid URI']
  ]
  for (const [method, query, status, message] of errors) {
    t.same((await api(emulator, `/v1/me/library${query}`, token, { method })).json, { error: { status, message } }, `${method} ${query}`)
  }
  const narrow = emulator.control.issueTokens('bob', ['user-library-modify']).access_token
  t.equal((await api(emulator, `/v1/me/library?uris=${uris[0]}`, narrow, { method: 'PUT' })).status, 200)
  t.same((await api(emulator, '/v1/me/library?uris=spotify:user:carol', narrow, { method: 'PUT' })).json, { error: { status: 403, message: 'Insufficient client scope' } })
  t.equal((await api(emulator, `/v1/me/library/contains?uris=${uris[0]}`, narrow)).status, 403, 'checking needs the read scope')
})
