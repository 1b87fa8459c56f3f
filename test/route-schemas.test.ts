import fastifySwagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { build, CookieJar, SCOPES, type BuildOptions } from './helpers/build.js'

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

  const ours = [login, callback, logout, token, ...Object.values(proxyMethods)]
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
