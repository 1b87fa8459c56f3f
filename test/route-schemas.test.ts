import fastifySwagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { memoryStore, type TokenStore } from '../plugin/index.js'
import { build, CookieJar, SCOPES, type BuildOptions, type Built } from './helpers/build.js'

interface Operation {
  tags?: string[]
  parameters?: Array<{ in: string, name: string }>
  responses: Record<string, { description: string, content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }>
}
type Paths = Record<string, Record<string, Operation>>

async function withSwagger (app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, { openapi: { info: { title: 'app', version: '1.0.0' } } })
}

const documented: BuildOptions['plugin'] = {
  scopes: [...SCOPES, 'streaming'],
  playbackTokenPath: '/spotify-token'
}

function pathsOf (app: FastifyInstance): Paths {
  return (app.swagger() as unknown as { paths?: Paths }).paths ?? {}
}

t.test('@fastify/swagger lists every route of the plugin with its responses', async (t) => {
  const { app } = await build(t, {
    first: withSwagger,
    plugin: { ...documented, routeSchema: { tags: ['auth', 'spotify'] } },
    before (app) { app.get('/mine', async () => 'mine') }
  })
  const paths = pathsOf(app)
  t.ok(paths['/mine'], 'the app\'s own route is there too')

  const login = paths['/login']?.get as Operation
  t.same(login.parameters?.map((p) => `${p.in}:${p.name}`).sort(), ['query:returnTo', 'query:scope'])
  t.same(Object.keys(login.responses), ['302'])

  const callback = paths['/callback']?.get as Operation
  t.same(callback.parameters?.map((p) => p.name).sort(), ['code', 'error', 'state'])
  t.same(Object.keys(callback.responses).sort(), ['200', '302', '400', '401', '403', '502', '503', '504']) // 200: the strict-cookie landing page
  const errorShape = callback.responses['403']?.content?.['application/json']?.schema as { properties: { error: { properties: Record<string, unknown> } } }
  t.same(Object.keys(errorShape.properties.error.properties), ['status', 'message', 'code'], 'the plugin\'s error shape')

  const logout = paths['/logout']?.post as Operation
  t.same(Object.keys(logout.responses).sort(), ['303', '403', '503'])

  const proxy = Object.entries(paths).find(([path]) => path.startsWith('/spotify/'))
  t.ok(proxy, `the proxy is listed (${proxy?.[0]})`)
  const proxyMethods = proxy?.[1] ?? {}
  t.same(Object.keys(proxyMethods).sort(), ['delete', 'get', 'head', 'patch', 'post', 'put'])
  t.ok(proxyMethods.get?.responses.default, 'the Web API\'s own answer, whatever its status')
  t.same(Object.keys(proxyMethods.get?.responses ?? {}).sort(), ['400', '401', '429', '502', '503', '504', 'default'])
  t.ok(proxyMethods.put?.responses['403'], 'writes may be refused as cross-site')

  const token = paths['/spotify-token']?.get as Operation
  t.same(Object.keys(token.responses['200']?.content?.['application/json']?.schema.properties ?? {}), ['accessToken', 'expiresAt'])
  t.ok(token.responses['401'] && token.responses['403'])

  // The session routes: who is logged in, the devices, signing them out.
  const session = paths['/session']?.get as Operation
  t.same(Object.keys(session.responses['200']?.content?.['application/json']?.schema.properties ?? {}), ['user', 'scopes', 'expiresAt', 'reauthBy'])
  t.same(Object.keys(session.responses).sort(), ['200', '401', '503'], 'from the store alone: no 500, no 403 without requireHeader')
  const devices = paths['/session/devices']?.get as Operation
  t.same(Object.keys(devices.responses['200']?.content?.['application/json']?.schema.properties ?? {}), ['devices'])
  t.same(Object.keys(devices.responses).sort(), ['200', '401', '500', '503'])
  const endDevice = paths['/session/devices/{id}']?.delete as Operation
  t.same(endDevice.parameters?.map((p) => `${p.in}:${p.name}`), ['path:id'])
  t.same(Object.keys(endDevice.responses).sort(), ['204', '401', '403', '404', '500', '503'])
  const endOthers = paths['/session/devices/end-others']?.post as Operation
  t.same(Object.keys(endOthers.responses['200']?.content?.['application/json']?.schema.properties ?? {}), ['ended'])
  t.same(Object.keys(endOthers.responses).sort(), ['200', '401', '403', '500', '503'])
  for (const operation of [endDevice, endOthers]) t.match(operation.responses['403']?.description, /FST_SPOTIFY_CROSS_SITE/)

  const ours = [login, callback, logout, token, session, devices, endDevice, endOthers, ...Object.values(proxyMethods)]
  for (const operation of ours) t.same(operation.tags, ['auth', 'spotify'], 'tagged as asked')
  t.equal(pathsOf(app)['/mine']?.get?.tags, undefined, 'the app\'s routes keep their own tags')
})

t.test('untagged by default; hide leaves the plugin\'s routes out', async (t) => {
  const plain = await build(t, { first: withSwagger, plugin: documented })
  t.equal(pathsOf(plain.app)['/login']?.get?.tags, undefined)

  const hidden = await build(t, {
    first: withSwagger,
    plugin: { ...documented, routeSchema: { hide: true } },
    before (app) { app.get('/mine', async () => 'mine') }
  })
  t.same(Object.keys(pathsOf(hidden.app)), ['/mine'], 'only the app\'s own route')
  const { jar } = await hidden.login()
  t.equal((await hidden.request(jar, { url: '/spotify/me' })).statusCode, 200, 'hidden, not gone')
})

t.test('the schemas change nothing: no validation, no reshaping, the proxy a passthrough', async (t) => {
  const built = await build(t, {
    first: withSwagger,
    emulator: { recordBodies: true },
    // Links rewritten to the proxy would differ from the direct answer; that is the rewriting's test, not this one's.
    plugin: { ...documented, scopes: [...documented.scopes as string[], 'playlist-modify-private'], proxyRewriteLinks: false }
  })
  const { jar } = await built.login()

  // Querystrings the schemas call strings, sent as arrays: still the routes' own rules.
  const repeated = await built.request(new CookieJar(), { url: '/login?returnTo=/a&returnTo=/b&scope=x&scope=y' })
  t.equal(repeated.statusCode, 302, 'a repeated returnTo is ignored, not a validation error')
  t.equal(repeated.cookies.some((c: { name: string, value: string }) => c.name === 'spotify_auth_return' && c.value !== ''), false)
  const callback = await built.request(new CookieJar(), { url: '/callback?state=a&state=b&code=x' })
  t.equal(callback.json().error.code, 'FST_SPOTIFY_INVALID_STATE', 'the callback\'s own check answers, not Fastify\'s validation')
  const headerless = await built.request(jar, { url: '/spotify-token', headers: { 'sec-fetch-site': 'same-origin', 'x-spotify-auth': 'anything' } })
  t.equal(headerless.statusCode, 200, 'the header\'s enum is documentation: fetch metadata decided')

  // Fields the schemas do not describe are not stripped.
  const me = await built.request(jar, { url: '/spotify/me' })
  t.ok(me.json().display_name && me.json().id && me.json().type, 'the Web API\'s body as it came')
  const direct = await fetch(`${built.emulator.url}/v1/me`, { headers: { authorization: `Bearer ${(await built.request(jar, { url: '/spotify-token', headers: { 'sec-fetch-site': 'same-origin' } })).json().accessToken}` } })
  t.equal(me.body, await direct.text(), 'byte for byte')

  // A body is not validated: anything goes through untouched.
  const odd = '{"name": "no schema judges this", "public": false, "extra": [1, 2]}'
  const created = await built.request(jar, { method: 'POST', url: '/spotify/me/playlists', headers: { 'content-type': 'application/json' }, payload: odd })
  t.equal(created.statusCode, 201)
  t.equal(built.emulator.control.apiRequests.at(-1)?.body, odd)
  const refused = await built.request(jar, { method: 'POST', url: '/spotify/me/playlists', headers: { 'content-type': 'text/plain' }, payload: 'not json' })
  t.equal(refused.statusCode, 400, 'the Web API\'s answer to a body it refuses, passed on')
  t.equal(built.emulator.control.apiRequests.at(-1)?.body, 'not json')
})

t.test('an app error handler\'s body keeps every field under the documented statuses', async (t) => {
  const built = await build(t, {
    first: withSwagger,
    plugin: { ...documented, errorHandler: 'app' },
    before (app) {
      app.setErrorHandler((error: Error & { code?: string, statusCode?: number }, _request, reply) =>
        reply.code(error.statusCode ?? 500).send({ mine: true, code: error.code, details: { nested: 'kept' } }))
    }
  })
  const none = new CookieJar()
  for (const url of ['/spotify/me', '/spotify-token', '/callback?state=x']) {
    const response = await built.request(none, { url, headers: { 'sec-fetch-site': 'same-origin' } })
    t.same(response.json(), { mine: true, code: response.json().code, details: { nested: 'kept' } }, url)
    t.match(response.json().code, /^FST_SPOTIFY_/, url)
  }
})

/** A memory store that fails every call while `down`, as an unreachable Redis does; without `sessionsOf` when `indexed` is false. */
function failingStore (indexed: boolean): { store: TokenStore, down: boolean } {
  const inner = memoryStore()
  const state = { down: false, store: {} as TokenStore }
  const failing = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    if (state.down) throw new Error('ECONNREFUSED')
    return await call(...args)
  }
  state.store = {
    get: failing((id: string) => inner.get(id)),
    set: failing((id: string, token: Parameters<TokenStore['set']>[1]) => inner.set(id, token)),
    update: failing((id: string, previous: Parameters<TokenStore['update']>[1], next: Parameters<TokenStore['update']>[2]) => inner.update(id, previous, next)),
    delete: failing((id: string) => inner.delete(id)),
    ...(indexed ? { sessionsOf: failing((userId: string) => (inner.sessionsOf as NonNullable<TokenStore['sessionsOf']>)(userId)) } : {})
  }
  return state
}

const SESSION_ROUTES = [
  ['GET', '/session', '/session', 'get'],
  ['GET', '/session/devices', '/session/devices', 'get'],
  ['DELETE', '/session/devices/AAAAAAAAAAAAAAAAAAAAAA', '/session/devices/{id}', 'delete'],
  ['POST', '/session/devices/end-others', '/session/devices/end-others', 'post']
] as const

/** Each session route's answer to a logged-in request from the app's own page, with the status its schema documents for it. */
async function answers (built: Built, jar: CookieJar): Promise<Array<{ route: string, status: number, code: string | undefined, documented: string | undefined }>> {
  const paths = pathsOf(built.app)
  const answered = []
  for (const [method, url, path, verb] of SESSION_ROUTES) {
    const response = await built.request(jar, { method, url, headers: { origin: 'http://127.0.0.1:5543' } })
    const status = response.statusCode
    answered.push({
      route: `${method} ${url}`,
      status,
      code: status >= 400 ? response.json().error.code : undefined,
      documented: paths[path]?.[verb]?.responses[String(status)]?.description
    })
  }
  return answered
}

t.test('the session routes\' 500 and 503: answered for real, each documented in the schema', async (t) => {
  // A store without the per-user index: who is logged in still works; the devices cannot be listed.
  const unindexed = failingStore(false)
  const plain = await build(t, { first: withSwagger, plugin: { store: unindexed.store } })
  const { jar } = await plain.login()
  const [session, ...deviceRoutes] = await answers(plain, jar)
  t.equal(session?.status, 200, 'GET /session needs no index')
  for (const answer of deviceRoutes) {
    t.equal(answer.status, 500, answer.route)
    t.equal(answer.code, 'FST_SPOTIFY_STORE_UNSUPPORTED', answer.route)
    t.match(answer.documented, /FST_SPOTIFY_STORE_UNSUPPORTED/, `${answer.route}: its 500 is documented`)
  }
  t.equal(pathsOf(plain.app)['/session']?.get?.responses['500'], undefined, 'GET /session documents no 500: it never answers one')

  // A store that is down: every session route answers 503.
  const flaky = failingStore(true)
  const built = await build(t, { first: withSwagger, plugin: { store: flaky.store } })
  const login = await built.login()
  t.same((await answers(built, login.jar)).map((answer) => answer.status), [200, 200, 404, 200], 'all answer while the store is up')
  flaky.down = true
  for (const answer of await answers(built, login.jar)) {
    t.equal(answer.status, 503, answer.route)
    t.equal(answer.code, 'FST_SPOTIFY_STORE_UNAVAILABLE', answer.route)
    t.match(answer.documented, /FST_SPOTIFY_STORE_UNAVAILABLE/, `${answer.route}: its 503 is documented`)
  }
  flaky.down = false
  t.equal((await built.request(login.jar, { url: '/session' })).statusCode, 200, 'and the session is still there')
})

t.test('requireHeader: every route it guards documents its 403, naming the header and FST_SPOTIFY_MISSING_HEADER', async (t) => {
  const built = await build(t, { first: withSwagger, plugin: { ...documented, requireHeader: 'X-Spotify-Auth' } })
  const paths = pathsOf(built.app)
  const proxy = Object.entries(paths).find(([path]) => path.startsWith('/spotify/'))?.[1] ?? {}
  const guarded: Array<[string, Operation | undefined]> = [
    ...Object.entries(proxy).map(([verb, operation]): [string, Operation] => [`${verb} proxy`, operation]),
    ['get /spotify-token', paths['/spotify-token']?.get],
    ...SESSION_ROUTES.map(([, , path, verb]): [string, Operation | undefined] => [`${verb} ${path}`, paths[path]?.[verb]])
  ]
  t.equal(guarded.length, 11)
  for (const [name, operation] of guarded) {
    t.match(operation?.responses['403']?.description, /^The x-spotify-auth header \(requireHeader\) is missing or empty \(FST_SPOTIFY_MISSING_HEADER\)/, name)
  }
  t.match(proxy.get?.responses['403']?.description, /^[^;]+$/, 'a read has no other 403 of the plugin')
  t.match(proxy.post?.responses['403']?.description, /; or: Sent from another origin's page \(FST_SPOTIFY_CROSS_SITE\)$/, 'a write keeps its own')
  t.match(paths['/spotify-token']?.get?.responses['403']?.description, /FST_SPOTIFY_MISSING_SCOPES/)
  for (const [path, verb] of [['/login', 'get'], ['/callback', 'get'], ['/logout', 'post']] as const) {
    t.notMatch(paths[path]?.[verb]?.responses['403']?.description ?? '', /MISSING_HEADER/, `${path}: a navigation, not guarded`)
  }

  // The documented 403, as the proxy's read answers it.
  const { jar } = await built.login()
  const refused = await built.request(jar, { url: '/spotify/me' })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().error.code, 'FST_SPOTIFY_MISSING_HEADER')
  t.equal((await built.request(jar, { url: '/spotify/me', headers: { 'x-spotify-auth': '1' } })).statusCode, 200)
})
