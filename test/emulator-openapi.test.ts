/**
 * Every response the emulator serves validates against the schema that
 * Spotify's OpenAPI description gives its operation (as compacted in
 * fixtures/web-api-schemas.json), in both quota modes; and every link it
 * hands out leads somewhere in the emulator.
 */
import { readFileSync } from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import t from 'tap'
import { albums, artists, categories, playlists, tracks, type EmulatorMode, type SpotifyEmulator } from '../plugin/emulator/index.js'
import { api, call, start, type Answer } from './helpers/emulator-helpers.js'

interface Operation { status: number, schema: object | null }
const spec = JSON.parse(readFileSync(new URL('fixtures/web-api-schemas.json', import.meta.url), 'utf8')) as {
  operations: Record<string, Operation>
  definitions: Record<string, object>
}

const ajv = new Ajv({ allErrors: true, allowUnionTypes: true })
ajv.addSchema({ $id: 'spotify', definitions: spec.definitions })
const compile = (schema: object): ValidateFunction => ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/definitions/', '"spotify#/definitions/')))
const errorShape = compile({ $ref: '#/definitions/ErrorResponse' })

/** The operation of a request: its method and path with the ids put back as OpenAPI templates. */
const TEMPLATES = Object.keys(spec.operations).map((key) => {
  const [method, template] = key.split(' ') as [string, string]
  const pattern = new RegExp('^' + template.replace(/\{[a-z_]+\}/g, '[^/]+') + '$')
  return { key, method, pattern, literal: template.split('/').filter((s) => !s.startsWith('{')).length }
})
function operationOf (method: string, path: string): string {
  // The most literal template wins: /me/top/tracks over a hypothetical /me/{x}/tracks.
  const found = TEMPLATES.filter((o) => o.method === method && o.pattern.test(path)).sort((a, b) => b.literal - a.literal)[0]
  if (found === undefined) throw new Error(`no operation for ${method} ${path}`)
  return found.key
}

const SCOPES = [
  'user-read-private', 'user-read-email', 'playlist-read-private', 'playlist-read-collaborative', 'playlist-modify-public',
  'playlist-modify-private', 'user-top-read', 'user-read-currently-playing', 'user-library-modify', 'user-library-read',
  'user-follow-modify', 'user-follow-read'
]

const long = playlists.find((p) => p.ownerId === 'alice' && p.name === 'Everything, Long')!
const diary = playlists.find((p) => p.ownerId === 'alice' && p.name === 'Private Diary')!
const track = (i: number): string => `spotify:track:${tracks[i]!.id}`

/** One request per operation the emulator serves (the removed ones too: they validate as errors in Development Mode). */
const REQUESTS: Array<[method: string, path: string, body?: unknown]> = [
  ['GET', '/v1/me'],
  ['GET', '/v1/me/playlists?limit=50'],
  ['POST', '/v1/me/playlists', { name: 'Checked', public: false }],
  ['GET', `/v1/playlists/${long.id}`],
  ['GET', `/v1/playlists/${playlists.find((p) => p.ownerId === 'carol' && p.public)!.id}`],
  ['GET', `/v1/playlists/${long.id}/items?limit=50&offset=100`],
  ['POST', `/v1/playlists/${diary.id}/items`, { uris: [track(1)] }],
  ['PUT', `/v1/playlists/${diary.id}/items`, { range_start: 0, insert_before: 2 }],
  ['DELETE', `/v1/playlists/${diary.id}/items`, { items: [{ uri: track(1) }] }],
  ['GET', `/v1/playlists/${long.id}/tracks`],
  ['POST', `/v1/playlists/${diary.id}/tracks`, { uris: [track(2)] }],
  ['PUT', `/v1/playlists/${diary.id}/tracks`, { uris: [track(3), track(4)] }],
  ['DELETE', `/v1/playlists/${diary.id}/tracks`, { items: [{ uri: track(3) }] }],
  ['GET', '/v1/users/carol'],
  ['GET', '/v1/users/carol/playlists'],
  ['POST', '/v1/users/alice/playlists', { name: 'Old way' }],
  ['GET', `/v1/tracks/${tracks[7]!.id}`],
  ['GET', `/v1/tracks?ids=${tracks[0]!.id},${tracks[1]!.id}`],
  ['GET', `/v1/albums/${albums[4]!.id}`],
  ['GET', `/v1/albums?ids=${albums[0]!.id}`],
  ['GET', `/v1/albums/${albums[0]!.id}/tracks`],
  ['GET', `/v1/artists/${artists[3]!.id}`],
  ['GET', `/v1/artists?ids=${artists[0]!.id}`],
  ['GET', `/v1/artists/${artists[0]!.id}/top-tracks`],
  ['GET', '/v1/search?q=e&type=album,artist,playlist,track&limit=10'],
  ['GET', '/v1/browse/new-releases'],
  ['GET', '/v1/browse/categories'],
  ['GET', `/v1/browse/categories/${categories[0]!.id}`],
  ['GET', '/v1/me/top/artists'],
  ['GET', '/v1/me/top/tracks?time_range=long_term'],
  ['GET', '/v1/me/player/currently-playing'],
  ['PUT', `/v1/me/library?uris=${track(5)},spotify:album:${albums[1]!.id}`],
  ['GET', `/v1/me/library/contains?uris=${track(5)},spotify:artist:${artists[1]!.id}`],
  ['DELETE', `/v1/me/library?uris=${track(5)}`]
]

async function serve (t: Parameters<typeof start>[0], mode: EmulatorMode): Promise<{ emulator: SpotifyEmulator, answers: Array<[string, Answer]> }> {
  const emulator = await start(t, { mode })
  const token = emulator.control.issueTokens('alice', SCOPES).access_token
  const answers: Array<[string, Answer]> = []
  for (const [method, path, body] of REQUESTS) {
    answers.push([`${method} ${path}`, await api(emulator, path, token, { method, body: body === undefined ? undefined : JSON.stringify(body) })])
  }
  return { emulator, answers }
}

for (const mode of ['development', 'extended'] as const) {
  t.test(`${mode} mode: every response matches Spotify's OpenAPI description of its operation`, async (t) => {
    const { answers } = await serve(t, mode)
    const served = new Set<string>()
    for (const [request, res] of answers) {
      const [method, url] = request.split(' ') as [string, string]
      const operation = spec.operations[operationOf(method, url.replace(/\?.*$/, '').replace(/^\/v1/, ''))]!
      if (res.status >= 400) {
        t.equal(mode, 'development', `${request}: only Development Mode refuses (${res.status} ${res.text})`)
        t.equal(res.status, 403, request)
        t.ok(errorShape(res.json), `${request}: Spotify's error shape`)
        continue
      }
      served.add(request)
      t.equal(res.status, operation.status, request)
      if (operation.schema === null) {
        t.equal(res.text, '', `${request}: no body`)
        continue
      }
      const validate = compile(operation.schema)
      t.ok(validate(res.json), `${request}: ${ajv.errorsText(validate.errors)}`)
    }
    t.equal(served.size, mode === 'extended' ? REQUESTS.length : REQUESTS.length - 14, 'the removed endpoints are all that Development Mode refuses')
  })

  t.test(`${mode} mode: every link in a response leads somewhere in the emulator`, async (t) => {
    const { emulator, answers } = await serve(t, mode)
    const token = emulator.control.issueTokens('alice', SCOPES).access_token
    const links = new Set<string>()
    const collect = (value: unknown, key = ''): void => {
      if (typeof value === 'string') {
        if (['href', 'next', 'previous', 'url'].includes(key) && value.startsWith(emulator.url)) links.add(value)
      } else if (Array.isArray(value)) {
        for (const v of value) collect(v, key)
      } else if (typeof value === 'object' && value !== null) {
        for (const [k, v] of Object.entries(value)) collect(v, k)
      }
    }
    for (const [, res] of answers) collect(res.json)
    t.ok(links.size > 100, `${links.size} distinct links`)
    for (const link of links) {
      const res = await call(link, { headers: { authorization: `Bearer ${token}` } })
      if (res.status === 200) continue
      // Development Mode still names other users and other people's playlist
      // entries (as Spotify does) but refuses to serve them.
      t.equal(mode, 'development', `${link}: ${res.status}`)
      t.same(res.json, { error: { status: 403, message: 'Forbidden' } }, link)
      t.match(link, /\/v1\/(users\/[^/]+|playlists\/[^/]+\/items(\?.*)?)$/, link)
    }
    // All every link needs is for nothing to be missing: no 404 above.
    t.pass('no link answered 404')
  })
}

t.test('client_credentials and error responses validate too', async (t) => {
  const emulator = await start(t)
  const app = emulator.control.issueAppToken().access_token
  const search = await api(emulator, '/v1/search?q=a&type=track', app)
  t.ok(compile(spec.operations['GET /search']!.schema!)(search.json))
  for (const res of [await api(emulator, '/v1/me', app), await api(emulator, '/v1/me'), await api(emulator, '/v1/tracks/x', app)]) {
    t.ok(errorShape(res.json), res.text)
  }
  emulator.control.failApiCalls(1, 502)
  t.ok(errorShape((await api(emulator, '/v1/me', app)).json))
})
