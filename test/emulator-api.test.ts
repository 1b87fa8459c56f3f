import t from 'tap'
import { libraries, playlists, type FixturePlaylist } from '../plugin/emulator/index.js'
import { api, call, start } from './helpers/emulator-helpers.js'

const ALL_READ = ['playlist-read-private', 'playlist-read-collaborative']

function byName (ownerId: string, name: string): FixturePlaylist {
  return playlists.find((p) => p.ownerId === ownerId && p.name === name)!
}

t.test('the bearer check answers in Spotify\'s error shape', async (t) => {
  let now = 5_000_000
  const emulator = await start(t, { now: () => now, accessTokenTtl: 60 })
  const { access_token: accessToken } = emulator.control.issueTokens('alice', [])

  let res = await api(emulator, '/v1/me')
  t.equal(res.status, 401)
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
  t.same(res.json, { error: { status: 401, message: 'No token provided' } })

  res = await api(emulator, '/v1/me', undefined, { headers: { authorization: 'Basic abc' } })
  t.equal(res.status, 400)
  t.same(res.json, { error: { status: 400, message: 'Only valid bearer authentication supported' } })

  res = await api(emulator, '/v1/me', 'BQunknown')
  t.same(res.json, { error: { status: 401, message: 'Invalid access token' } })

  t.equal((await api(emulator, '/v1/me', accessToken)).status, 200)
  now += 59_999
  t.equal((await api(emulator, '/v1/me', accessToken)).status, 200)
  now += 1
  res = await api(emulator, '/v1/me', accessToken)
  t.equal(res.status, 401)
  t.same(res.json, { error: { status: 401, message: 'The access token expired' } })
})

t.test('expireAccessTokens expires every token issued so far', async (t) => {
  const emulator = await start(t)
  const a = emulator.control.issueTokens('alice', [])
  const b = emulator.control.issueTokens('bob', [])
  emulator.control.expireAccessTokens()
  for (const { access_token: accessToken } of [a, b]) {
    t.same((await api(emulator, '/v1/me', accessToken)).json, { error: { status: 401, message: 'The access token expired' } })
  }
  const c = emulator.control.issueTokens('bob', [])
  t.equal((await api(emulator, '/v1/me', c.access_token)).status, 200, 'tokens issued later are fine')
})

t.test('unauthorizeApiCalls answers 401 even with a valid token', async (t) => {
  const emulator = await start(t)
  const { access_token: accessToken } = emulator.control.issueTokens('alice', [])
  emulator.control.unauthorizeApiCalls(1)
  const res = await api(emulator, '/v1/me', accessToken)
  t.equal(res.status, 401)
  t.same(res.json, { error: { status: 401, message: 'Invalid access token' } })
  t.equal((await api(emulator, '/v1/me', accessToken)).status, 200)
})

t.test('GET /v1/me shows what a Development Mode app gets, whatever the scopes', async (t) => {
  const emulator = await start(t)
  const profile = async (scopes: string[]): Promise<any> => (await api(emulator, '/v1/me', emulator.control.issueTokens('alice', scopes).access_token)).json

  const bare = await profile([])
  t.same(bare, {
    account_id: bare.account_id,
    display_name: 'Alice Andersson',
    external_urls: { spotify: 'https://open.spotify.com/user/alice' },
    href: `${emulator.url}/v1/users/alice`,
    id: 'alice',
    images: [
      { url: bare.images[0].url, height: 300, width: 300 },
      { url: bare.images[1].url, height: 64, width: 64 }
    ],
    type: 'user',
    uri: 'spotify:user:alice'
  })
  t.match(bare.account_id, /^[0-9A-Za-z]{22}$/)
  t.match(bare.images[0].url, new RegExp(`^${emulator.url}/images/[0-9A-Za-z]{22}$`))
  t.same(await profile(['user-read-private', 'user-read-email']), bare, 'country, email, product, explicit_content and followers are gone')

  const bob = (await api(emulator, '/v1/me', emulator.control.issueTokens('bob', ['user-read-private']).access_token)).json
  t.same(bob.images, [], 'the free user has no picture')
  t.not(bob.account_id, bare.account_id)
})

t.test('GET /v1/me/playlists pages with absolute next/previous links', async (t) => {
  const emulator = await start(t)
  const { access_token: accessToken } = emulator.control.issueTokens('carol', ALL_READ)
  const total = libraries.get('carol')!.length
  t.ok(total >= 45, 'carol has enough playlists for several pages')

  const first = (await api(emulator, '/v1/me/playlists', accessToken)).json
  t.match(first, {
    href: `${emulator.url}/v1/me/playlists?offset=0&limit=20`,
    limit: 20,
    next: `${emulator.url}/v1/me/playlists?offset=20&limit=20`,
    offset: 0,
    previous: null,
    total
  })
  t.equal(first.items.length, 20)
  t.same(Object.keys(first.items[0]).sort(), [
    'collaborative', 'description', 'external_urls', 'href', 'id', 'images', 'items', 'name', 'owner',
    'public', 'snapshot_id', 'type', 'uri'
  ])
  t.match(first.items[0], {
    type: 'playlist',
    owner: { id: 'carol', display_name: 'Carol Chen', type: 'user' },
    items: { href: `${emulator.url}/v1/playlists/${first.items[0].id}/items`, total: Number },
    uri: `spotify:playlist:${first.items[0].id}`
  })

  // Follow the links to the end: every playlist exactly once.
  const seen: string[] = []
  let next: string | null = `${emulator.url}/v1/me/playlists?limit=20`
  let pages = 0
  let last: any
  while (next !== null) {
    last = (await call(next, { headers: { authorization: `Bearer ${accessToken}` } })).json
    seen.push(...last.items.map((p: { id: string }) => p.id))
    next = last.next
    pages++
  }
  t.equal(pages, Math.ceil(total / 20))
  t.same(seen, libraries.get('carol'))
  t.equal(last.previous, `${emulator.url}/v1/me/playlists?offset=${(pages - 2) * 20}&limit=20`)

  const middle = (await api(emulator, '/v1/me/playlists?offset=3&limit=5', accessToken)).json
  t.equal(middle.previous, `${emulator.url}/v1/me/playlists?offset=0&limit=5`)
  t.equal(middle.next, `${emulator.url}/v1/me/playlists?offset=8&limit=5`)
  t.same(middle.items.map((p: { id: string }) => p.id), libraries.get('carol')!.slice(3, 8))

  const beyond = (await api(emulator, `/v1/me/playlists?offset=${total + 10}&limit=50`, accessToken)).json
  t.same(beyond.items, [])
  t.equal(beyond.next, null)
  t.equal(beyond.total, total)
})

t.test('invalid paging parameters answer 400', async (t) => {
  const emulator = await start(t)
  const { access_token: accessToken } = emulator.control.issueTokens('carol', [])
  const cases: Array<[string, string]> = [
    ['limit=0', 'Invalid limit'], ['limit=51', 'Invalid limit'], ['limit=-1', 'Invalid limit'],
    ['limit=abc', 'Invalid limit'], ['limit=', 'Invalid limit'], ['limit=2.5', 'Invalid limit'],
    ['offset=-1', 'Invalid offset'], ['offset=x', 'Invalid offset']
  ]
  for (const [query, message] of cases) {
    const res = await api(emulator, `/v1/me/playlists?${query}`, accessToken)
    t.equal(res.status, 400, query)
    t.same(res.json, { error: { status: 400, message } }, query)
  }
  const publicOnes = libraries.get('carol')!.filter((id) => playlists.find((p) => p.id === id)!.public).length
  t.equal((await api(emulator, '/v1/me/playlists?limit=50', accessToken)).json.items.length, publicOnes)
})

t.test('private and collaborative playlists are listed only with their scopes', async (t) => {
  const emulator = await start(t)
  const list = async (scopes: string[]): Promise<FixturePlaylist[]> => {
    const { access_token: accessToken } = emulator.control.issueTokens('alice', scopes)
    const page = (await api(emulator, '/v1/me/playlists?limit=50', accessToken)).json
    t.equal(page.total, page.items.length)
    return page.items
  }
  const library = libraries.get('alice')!.map((id) => playlists.find((p) => p.id === id)!)

  const none = await list([])
  t.same(none.map((p) => p.id), library.filter((p) => p.public).map((p) => p.id))
  t.ok(none.every((p) => p.public && !p.collaborative))

  const priv = await list(['playlist-read-private'])
  t.same(priv.map((p) => p.id), library.filter((p) => !p.collaborative).map((p) => p.id))
  t.ok(priv.some((p) => !p.public))

  const collab = await list(['playlist-read-collaborative'])
  t.same(collab.map((p) => p.id), library.filter((p) => p.public || p.collaborative).map((p) => p.id))
  t.ok(collab.some((p) => p.collaborative))

  t.equal((await list(ALL_READ)).length, library.length)
})

t.test('GET /v1/playlists/{id} returns the full playlist to those who may see it', async (t) => {
  const emulator = await start(t)
  const alice = emulator.control.issueTokens('alice', []).access_token
  const bob = emulator.control.issueTokens('bob', []).access_token
  const long = byName('alice', 'Everything, Long')

  const res = await api(emulator, `/v1/playlists/${long.id}`, alice)
  t.equal(res.status, 200)
  const p = res.json
  t.match(p, {
    collaborative: false,
    description: long.description,
    external_urls: { spotify: `https://open.spotify.com/playlist/${long.id}` },
    followers: { href: null, total: long.followers },
    href: `${emulator.url}/v1/playlists/${long.id}`,
    id: long.id,
    name: long.name,
    owner: { id: 'alice', href: `${emulator.url}/v1/users/alice` },
    public: true,
    snapshot_id: String,
    type: 'playlist',
    uri: `spotify:playlist:${long.id}`,
    items: {
      href: `${emulator.url}/v1/playlists/${long.id}/items?offset=0&limit=50`,
      limit: 50,
      next: `${emulator.url}/v1/playlists/${long.id}/items?offset=50&limit=50`,
      offset: 0,
      previous: null,
      total: 130
    }
  })
  t.notOk('tracks' in p, 'Development Mode playlists carry items, not tracks')
  t.equal(p.items.items.length, 50)
  const item = p.items.items[0]
  t.same(item.track, item.item, 'entries still carry the deprecated track twin')
  t.match(item, {
    added_at: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    added_by: { id: 'alice', type: 'user', uri: 'spotify:user:alice' },
    is_local: false,
    item: {
      album: { album_type: String, artists: Array, id: /^[0-9A-Za-z]{22}$/, images: Array, name: String, release_date: String, type: 'album' },
      artists: [{ id: String, name: String, type: 'artist' }],
      duration_ms: Number,
      explicit: Boolean,
      external_ids: { isrc: String },
      id: /^[0-9A-Za-z]{22}$/,
      name: String,
      type: 'track',
      uri: /^spotify:track:/
    }
  })
  t.notOk('popularity' in item.item || 'available_markets' in item.item, 'Development Mode tracks lack popularity and markets')
  t.ok(p.items.items.some((i: any) => i.item.artists.length > 1), 'some tracks have several artists')

  const notMine = await api(emulator, `/v1/playlists/${long.id}`, bob)
  t.equal(notMine.status, 200, 'a public playlist is visible to others')
  t.notOk('items' in notMine.json, 'but its entries only to the owner and collaborators')

  // Private: only the owner; collaborative: owner and collaborators.
  const diary = byName('alice', 'Private Diary')
  t.equal((await api(emulator, `/v1/playlists/${diary.id}`, alice)).status, 200)
  const hidden = await api(emulator, `/v1/playlists/${diary.id}`, bob)
  t.equal(hidden.status, 404)
  t.same(hidden.json, { error: { status: 404, message: 'Resource not found' } })
  const trip = byName('alice', 'Road Trip 2024')
  t.equal((await api(emulator, `/v1/playlists/${trip.id}`, bob)).status, 200, 'a collaborator sees it')
  const carol = emulator.control.issueTokens('carol', []).access_token
  t.equal((await api(emulator, `/v1/playlists/${trip.id}`, carol)).status, 404)

  t.equal((await api(emulator, '/v1/playlists/0000000000000000000000', alice)).status, 404)
  const empty = (await api(emulator, `/v1/playlists/${byName('alice', 'Empty for Now').id}`, alice)).json
  t.same(empty.images, [])
  t.equal(empty.items.total, 0)
  t.equal(empty.items.next, null)
})

t.test('GET /v1/playlists/{id}/items pages up to 50 entries, for owners and collaborators only', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('alice', []).access_token
  const long = byName('alice', 'Everything, Long')
  const base = `${emulator.url}/v1/playlists/${long.id}/items`

  const first = (await api(emulator, `/v1/playlists/${long.id}/items`, token)).json
  t.match(first, { href: `${base}?offset=0&limit=20`, limit: 20, offset: 0, total: 130, next: `${base}?offset=20&limit=20`, previous: null })
  t.equal(first.items.length, 20)

  // Follow `next` across all three pages of 50.
  const seen: string[] = []
  let next: string | null = `${base}?limit=50`
  let pages = 0
  while (next !== null) {
    const page: any = (await call(next, { headers: { authorization: `Bearer ${token}` } })).json
    seen.push(...page.items.map((i: any) => i.item.id))
    next = page.next
    pages++
  }
  t.equal(pages, 3)
  t.same(seen, long.items.map((i) => i.trackId))

  const last = (await api(emulator, `/v1/playlists/${long.id}/items?limit=50&offset=100`, token)).json
  t.equal(last.items.length, 30)
  t.equal(last.next, null)
  t.equal(last.previous, `${base}?offset=50&limit=50`)

  t.same((await api(emulator, `/v1/playlists/${long.id}/items?limit=51`, token)).json, { error: { status: 400, message: 'Invalid limit' } })

  const bob = emulator.control.issueTokens('bob', []).access_token
  const other = await api(emulator, `/v1/playlists/${long.id}/items`, bob)
  t.equal(other.status, 403, 'another user\'s public playlist: Development Mode refuses its entries')
  t.same(other.json, { error: { status: 403, message: 'Forbidden' } })
  t.equal((await api(emulator, `/v1/playlists/${byName('alice', 'Road Trip 2024').id}/items`, bob)).status, 200, 'a collaborator reads them')
  t.equal((await api(emulator, `/v1/playlists/${byName('alice', 'Private Diary').id}/items`, bob)).status, 404)
})

t.test('creating playlists: scopes, owner, validation', async (t) => {
  const emulator = await start(t)
  const post = (path: string, token: string, body: string): ReturnType<typeof api> =>
    api(emulator, path, token, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const both = emulator.control.issueTokens('bob', ['playlist-modify-public', 'playlist-modify-private', ...ALL_READ]).access_token

  const created = await post('/v1/me/playlists', both, JSON.stringify({ name: 'New <one>', description: 'fresh' }))
  t.equal(created.status, 201)
  t.match(created.json, {
    name: 'New <one>',
    description: 'fresh',
    public: true,
    collaborative: false,
    owner: { id: 'bob' },
    followers: { total: 0 },
    items: { total: 0, items: [] },
    type: 'playlist'
  })
  const fetched = await api(emulator, `/v1/playlists/${created.json.id}`, both)
  t.equal(fetched.json.name, 'New <one>')
  const listed = (await api(emulator, '/v1/me/playlists', both)).json
  t.equal(listed.items[0].id, created.json.id, 'the newest playlist is listed first')
  t.equal(listed.total, libraries.get('bob')!.length + 1)

  const collab = await post('/v1/me/playlists', both, JSON.stringify({ name: 'Together', public: false, collaborative: true }))
  t.equal(collab.status, 201)
  t.match(collab.json, { public: false, collaborative: true })

  const publicOnly = emulator.control.issueTokens('bob', ['playlist-modify-public']).access_token
  t.same((await post('/v1/me/playlists', publicOnly, '{"name":"secret","public":false}')).json, { error: { status: 403, message: 'Insufficient client scope' } })
  const privateOnly = emulator.control.issueTokens('bob', ['playlist-modify-private']).access_token
  t.equal((await post('/v1/me/playlists', privateOnly, '{"name":"open"}')).status, 403)
  t.equal((await post('/v1/me/playlists', privateOnly, '{"name":"closed","public":false}')).status, 201)

  const removed = await post('/v1/users/bob/playlists', both, '{"name":"x"}')
  t.equal(removed.status, 403, 'Development Mode creates playlists through /me/playlists only')
  t.same(removed.json, { error: { status: 403, message: 'Forbidden' } })

  const invalid: Array<[string, string]> = [
    ['not json', 'Error parsing JSON.'],
    ['', 'Error parsing JSON.'],
    ['[]', 'Error parsing JSON.'],
    ['null', 'Error parsing JSON.'],
    ['"name"', 'Error parsing JSON.'],
    ['{}', 'Missing required field: name'],
    ['{"name":"  "}', 'Missing required field: name'],
    ['{"name":5}', 'Missing required field: name'],
    ['{"name":"x","description":5}', 'Invalid description'],
    ['{"name":"x","public":"yes"}', 'Invalid public'],
    ['{"name":"x","collaborative":1}', 'Invalid collaborative'],
    ['{"name":"x","collaborative":true}', 'Collaborative playlists can only be private']
  ]
  for (const [body, message] of invalid) {
    const res = await post('/v1/me/playlists', both, body)
    t.equal(res.status, 400, body)
    t.same(res.json, { error: { status: 400, message } }, body)
  }
  const noBody = await api(emulator, '/v1/me/playlists', both, { method: 'POST' })
  t.same(noBody.json, { error: { status: 400, message: 'Error parsing JSON.' } })

  // Created playlists belong to this emulator only.
  const fresh = await start(t)
  const freshToken = fresh.control.issueTokens('bob', ALL_READ).access_token
  t.equal((await api(fresh, `/v1/playlists/${created.json.id}`, freshToken)).status, 404)
  t.equal((await api(fresh, '/v1/me/playlists', freshToken)).json.total, libraries.get('bob')!.length)
})

t.test('apiRequests records every /v1 call as received', async (t) => {
  const emulator = await start(t, { recordBodies: true })
  const token = emulator.control.issueTokens('bob', ['playlist-modify-public']).access_token
  await api(emulator, '/v1/me/playlists?limit=5&offset=0', token, { headers: { 'x-extra': 'yes' } })
  await api(emulator, '/v1/me/playlists', token, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"name":"raw ü"}' })
  await api(emulator, '/v1/nowhere')
  const [list, create, missing] = emulator.control.apiRequests
  t.match(list, { method: 'GET', path: '/v1/me/playlists', query: 'limit=5&offset=0', body: '' })
  t.equal(list!.headers['x-extra'], 'yes')
  t.equal(list!.headers.authorization, `Bearer ${token}`)
  t.match(create, { method: 'POST', path: '/v1/me/playlists', query: '', body: '{"name":"raw ü"}' })
  t.match(missing, { method: 'GET', path: '/v1/nowhere', query: '' })
  t.equal(emulator.control.counters.api, 3)
  emulator.control.clearApiRequests()
  t.equal(emulator.control.apiRequests.length, 0)
  emulator.control.resetCounters()
  t.same(emulator.control.counters, { authorization_code: 0, refresh_token: 0, client_credentials: 0, api: 0 })
})

t.test('apiRequests is a bounded ring, without bodies unless asked', async (t) => {
  const emulator = await start(t, { recordRequests: 3 })
  const token = emulator.control.issueTokens('bob', ['playlist-modify-public']).access_token
  for (let i = 0; i < 5; i++) await api(emulator, `/v1/me/playlists?offset=${i}`, token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"a big body"}' })
  t.same(emulator.control.apiRequests.map((r) => r.query), ['offset=2', 'offset=3', 'offset=4'], 'the latest three')
  t.same(emulator.control.apiRequests.map((r) => r.body), ['', '', ''], 'no bodies kept')
  t.equal(emulator.control.counters.api, 5, 'every call still counted')
  const none = await start(t, { recordRequests: 0 })
  await api(none, '/v1/me', token)
  t.same(none.control.apiRequests, [])
})

t.test('unknown routes answer 404 Service not found', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('bob', []).access_token
  for (const path of ['/v1/nowhere', '/v1/me/albums/x/y']) {
    const res = await api(emulator, path, token)
    t.equal(res.status, 404)
    t.same(res.json, { error: { status: 404, message: 'Service not found' } })
  }
  t.equal((await api(emulator, '/v1/me', token, { method: 'DELETE' })).status, 404)
  t.equal((await api(emulator, '/v1/nowhere')).status, 401, 'the token is checked first')
  const outside = await call(`${emulator.url}/nowhere`)
  t.equal(outside.status, 404)
  t.same(outside.json, { error: { status: 404, message: 'Service not found' } })
})

t.test('rateLimitApiCalls answers 429 with Retry-After', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('bob', []).access_token
  emulator.control.rateLimitApiCalls(2, 7)
  for (let i = 0; i < 2; i++) {
    const res = await api(emulator, '/v1/me', token)
    t.equal(res.status, 429)
    t.equal(res.headers.get('retry-after'), '7')
    t.same(res.json, { error: { status: 429, message: 'API rate limit exceeded' } })
  }
  t.equal((await api(emulator, '/v1/me', token)).status, 200)
  t.equal(emulator.control.counters.api, 3, 'rate limited calls are counted')
  t.throws(() => emulator.control.rateLimitApiCalls(1, -5), RangeError)
})

t.test('failApiCalls answers the given status in Spotify\'s shape', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('bob', []).access_token
  emulator.control.failApiCalls(1, 502)
  t.same((await api(emulator, '/v1/me', token)).json, { error: { status: 502, message: 'Bad gateway.' } })
  emulator.control.failApiCalls(1, 599)
  const odd = await api(emulator, '/v1/me')
  t.equal(odd.status, 599)
  t.same(odd.json, { error: { status: 599, message: 'Unknown error' } })
  t.equal((await api(emulator, '/v1/me', token)).status, 200)
  t.throws(() => emulator.control.failApiCalls(1, 302), RangeError)
})

t.test('setApiResponseHeaders adds headers to every /v1 response', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('bob', []).access_token
  emulator.control.setApiResponseHeaders({ 'set-cookie': ['a=1; Path=/', 'b=2'], 'x-upstream': 'yes' })
  for (const res of [await api(emulator, '/v1/me', token), await api(emulator, '/v1/me'), await api(emulator, '/v1/nowhere', token)]) {
    t.same(res.headers.getSetCookie(), ['a=1; Path=/', 'b=2'])
    t.equal(res.headers.get('x-upstream'), 'yes')
  }
  emulator.control.setApiResponseHeaders({})
  t.equal((await api(emulator, '/v1/me', token)).headers.get('x-upstream'), null)
})

t.test('hangApiCalls holds a call open until close() drops it', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('bob', []).access_token
  emulator.control.hangApiCalls(1)
  const hung = api(emulator, '/v1/me', token)
  let settled = false
  const watched = hung.then(() => { settled = true }, (err: unknown) => { settled = true; throw err })
  t.equal((await api(emulator, '/v1/me', token)).status, 200)
  t.equal(settled, false)
  t.equal(emulator.control.counters.api, 2)
  await emulator.close()
  await t.rejects(watched)
})

t.test('a client timeout ends a hung call too, and close() still finishes', async (t) => {
  const emulator = await start(t)
  emulator.control.hangApiCalls(1)
  await t.rejects(api(emulator, '/v1/me', undefined, { signal: AbortSignal.timeout(100) }))
  await emulator.close()
})

t.test('framework errors still answer in Spotify\'s shape', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('bob', ['playlist-modify-public']).access_token
  const big = await api(emulator, '/v1/me/playlists', token, { method: 'POST', body: 'x'.repeat(1_100_000) })
  t.equal(big.status, 413)
  t.same(big.json, { error: { status: 413, message: 'Payload too large' } })

  const badUrl = await call(`${emulator.url}/v1/%E0%A4%A`)
  t.equal(badUrl.status, 400)
  t.same(badUrl.json, { error: { status: 400, message: 'Bad request' } })

  const badJson = await call(`${emulator.url}/nowhere`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })
  t.equal(badJson.status, 400)
  t.same(badJson.json, { error: { status: 400, message: 'Bad request' } })
  t.notMatch(badJson.text, /stack|at /)
})

t.test('images are served locally', async (t) => {
  const emulator = await start(t)
  const token = emulator.control.issueTokens('alice', []).access_token
  const me = (await api(emulator, '/v1/me', token)).json
  const image = await call(me.images[0].url)
  t.equal(image.status, 200)
  t.equal(image.headers.get('content-type'), 'image/svg+xml')
  t.match(image.text, /^<svg /)
  t.equal((await call(me.images[0].url)).text, image.text, 'the same image every time')
  const missing = await call(`${emulator.url}/images/not-an-id`)
  t.equal(missing.status, 404)
})
