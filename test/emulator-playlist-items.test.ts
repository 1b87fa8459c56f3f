import t from 'tap'
import { playlists, tracks, type FixturePlaylist } from '../plugin/emulator/index.js'
import { api, start } from './helpers/emulator-helpers.js'

function byName (ownerId: string, name: string): FixturePlaylist {
  return playlists.find((p) => p.ownerId === ownerId && p.name === name)!
}

const uri = (i: number): string => `spotify:track:${tracks[i]!.id}`
const MODIFY = ['playlist-modify-public', 'playlist-modify-private']

t.test('POST, PUT and DELETE /items edit a playlist and change its snapshot', async (t) => {
  let now = Date.UTC(2026, 8, 1, 10)
  const emulator = await start(t, { now: () => now })
  const token = emulator.control.issueTokens('alice', MODIFY).access_token
  const diary = byName('alice', 'Private Diary')
  const path = `/v1/playlists/${diary.id}/items`
  const send = (method: string, body?: unknown, query = ''): ReturnType<typeof api> =>
    api(emulator, path + query, token, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  const ids = async (): Promise<string[]> => (await api(emulator, `${path}?limit=50`, token)).json.items.map((i: any) => i.item.id)
  const before = (await api(emulator, `/v1/playlists/${diary.id}`, token)).json.snapshot_id

  const added = await send('POST', { uris: [uri(0), uri(1)], position: 1 })
  t.equal(added.status, 201)
  t.match(added.json, { snapshot_id: String })
  t.not(added.json.snapshot_id, before)
  const afterAdd = await ids()
  t.same(afterAdd.slice(1, 3), [tracks[0]!.id, tracks[1]!.id])
  t.equal(afterAdd.length, diary.items.length + 2)
  const entry = (await api(emulator, `${path}?offset=1&limit=1`, token)).json.items[0]
  t.match(entry, { added_at: '2026-09-01T10:00:00Z', added_by: { id: 'alice' } })

  t.equal((await send('POST', undefined, `?uris=${uri(2)}`)).status, 201, 'uris in the query, appended')
  t.equal((await ids()).at(-1), tracks[2]!.id)
  t.equal((await send('POST', {}, `?uris=${uri(3)}&position=0`)).status, 201)
  t.equal((await ids())[0], tracks[3]!.id)

  now += 1000
  const list = await ids()
  const reordered = await send('PUT', { range_start: 0, insert_before: 3, range_length: 2 })
  t.equal(reordered.status, 200)
  t.same(await ids(), [list[2], list[0], list[1], ...list.slice(3)], 'two entries moved below the third')
  t.equal((await send('PUT', { range_start: 4, insert_before: 0 })).status, 200)
  const moved = await ids()
  t.same(moved, [list[4], list[2], list[0], list[1], list[3], ...list.slice(5)], 'one entry to the top')
  t.equal((await send('PUT', { range_start: 0, insert_before: 1, range_length: 3 })).status, 200)
  t.same(await ids(), moved, 'inserting inside the moved range changes nothing')

  const removed = await send('DELETE', { items: [{ uri: uri(0) }, { uri: uri(2) }] })
  t.equal(removed.status, 200)
  t.notOk((await ids()).includes(tracks[0]!.id))

  const replaced = await send('PUT', undefined, `?uris=${uri(5)},${uri(6)}`)
  t.equal(replaced.status, 200)
  t.same(await ids(), [tracks[5]!.id, tracks[6]!.id])
  t.equal((await send('PUT', { uris: [] })).status, 200, 'an empty list clears it')
  t.same(await ids(), [])
})

t.test('edits are checked like Spotify checks them', async (t) => {
  const emulator = await start(t)
  const alice = emulator.control.issueTokens('alice', MODIFY).access_token
  const diary = byName('alice', 'Private Diary')
  const path = `/v1/playlists/${diary.id}/items`
  const cases: Array<[string, string | undefined, string, string]> = [
    ['POST', 'nope', '', 'Error parsing JSON.'],
    ['PUT', '[1]', '', 'Error parsing JSON.'],
    ['DELETE', '{', '', 'Error parsing JSON.'],
    ['POST', '{}', '', 'No uris provided'],
    ['POST', JSON.stringify({ uris: Array(101).fill(uri(0)) }), '', 'Too many ids requested'],
    ['POST', JSON.stringify({ uris: ['spotify:episode:0000000000000000000000'] }), '', 'Invalid track uri'],
    ['POST', JSON.stringify({ uris: [5] }), '', 'Invalid track uri'],
    ['POST', JSON.stringify({ uris: [uri(0)], position: 99 }), '', 'Invalid position'],
    ['POST', undefined, `?uris=${uri(0)}&position=x`, 'Invalid position'],
    ['PUT', JSON.stringify({ range_start: 0 }), '', 'Invalid range'],
    ['PUT', JSON.stringify({ range_start: 0, insert_before: 1, range_length: 0 }), '', 'Invalid range'],
    ['PUT', JSON.stringify({ range_start: 5, insert_before: 0, range_length: 5 }), '', 'Invalid range'],
    ['PUT', JSON.stringify({ uris: 'x' }), '', 'No uris provided'],
    ['DELETE', '{}', '', 'Missing required field: items'],
    ['DELETE', JSON.stringify({ items: [null] }), '', 'Invalid track uri']
  ]
  for (const [method, body, query, message] of cases) {
    const res = await api(emulator, path + query, alice, { method, body })
    t.same(res.json, { error: { status: 400, message } }, `${method} ${body ?? query}`)
  }

  const body = JSON.stringify({ uris: [uri(0)] })
  const bob = emulator.control.issueTokens('bob', MODIFY).access_token
  t.same((await api(emulator, `/v1/playlists/${byName('alice', 'Morning Focus').id}/items`, bob, { method: 'POST', body })).json,
    { error: { status: 403, message: 'Forbidden' } }, 'only owners and collaborators edit')
  t.equal((await api(emulator, `/v1/playlists/${byName('alice', 'Road Trip 2024').id}/items`, bob, { method: 'POST', body })).status, 201, 'a collaborator may')
  for (const method of ['POST', 'PUT', 'DELETE']) {
    t.equal((await api(emulator, path, bob, { method, body })).status, 404, `${method}: an unseen private playlist is unknown`)
  }
  const publicOnly = emulator.control.issueTokens('alice', ['playlist-modify-public']).access_token
  t.same((await api(emulator, path, publicOnly, { method: 'POST', body })).json, { error: { status: 403, message: 'Insufficient client scope' } })
  const morning = byName('alice', 'Morning Focus')
  t.equal((await api(emulator, `/v1/playlists/${morning.id}/items`, publicOnly, { method: 'POST', body })).status, 201, 'a public playlist needs the public scope')
})
