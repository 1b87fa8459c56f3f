import Fastify from 'fastify'
import t from 'tap'
import spotifyAuth, { memoryStore, type TokenStore } from '../plugin/index.js'
import { resolveOptions } from '../plugin/options.js'
import { SECRET } from './helpers/build.js'

const valid = {
  clientId: 'id',
  clientSecret: 'secret',
  redirectUri: 'http://127.0.0.1:5543/callback',
  secret: SECRET
}

const cases: Array<[string, Record<string, unknown>, RegExp]> = [
  ['clientId missing', { clientId: undefined }, /options\.clientId must be a non-empty string/],
  ['clientSecret empty', { clientSecret: '' }, /options\.clientSecret must be a non-empty string/],
  ['redirectUri missing', { redirectUri: undefined }, /options\.redirectUri must be a non-empty string/],
  ['redirectUri relative', { redirectUri: '/callback' }, /options\.redirectUri must be an absolute http\(s\) URL/],
  ['redirectUri ftp', { redirectUri: 'ftp://127.0.0.1/callback' }, /options\.redirectUri must be an absolute http\(s\) URL/],
  ['redirectUri localhost', { redirectUri: 'http://localhost:5543/callback' }, /options\.redirectUri must not use localhost/],
  ['redirectUri https localhost', { redirectUri: 'https://localhost/callback' }, /options\.redirectUri must not use localhost/],
  ['redirectUri plain http elsewhere', { redirectUri: 'http://app.example/callback' }, /options\.redirectUri must use https, or plain http only on 127\.0\.0\.1 or \[::1\]/],
  ['redirectUri with query', { redirectUri: 'https://app.example/cb?x=1' }, /options\.redirectUri must not have a query/],
  ['redirectUri same as login', { redirectUri: 'https://app.example/login' }, /options\.redirectUri path must differ from options\.loginPath/],
  ['secret short', { secret: 'short' }, /options\.secret must be at least 32 characters/],
  ['secret empty array', { secret: [] }, /options\.secret must be a string or a non-empty array/],
  ['secret array with a short one', { secret: [SECRET, 'short'] }, /options\.secret must be at least 32 characters/],
  ['scopes not an array', { scopes: 'user-read-private' }, /options\.scopes must be an array/],
  ['scopes with a space', { scopes: ['a b'] }, /options\.scopes has "a b", which is not a scope Spotify documents/],
  ['scopes with a number', { scopes: [1] }, /options\.scopes must be an array/],
  ['scopes unknown to Spotify', { scopes: ['user-read-private', 'user-read-birthdate'] }, /options\.scopes has "user-read-birthdate", which is not a scope Spotify documents/],
  ['store incomplete', { store: { get () {} } }, /options\.store must implement get, set, update and delete/],
  ['store null', { store: null }, /options\.store must implement/],
  ['loginPath relative', { loginPath: 'login' }, /options\.loginPath must be a path/],
  ['logoutPath trailing slash', { logoutPath: '/logout/' }, /options\.logoutPath must be a path/],
  ['proxyPrefix root', { proxyPrefix: '/' }, /options\.proxyPrefix must not be \//],
  ['proxyPrefix true', { proxyPrefix: true }, /options\.proxyPrefix must be a path/],
  ['successRedirect protocol-relative', { successRedirect: '//evil.example' }, /options\.successRedirect must be a path/],
  ['successRedirect javascript', { successRedirect: 'javascript:alert(1)' }, /options\.successRedirect must be a path/],
  ['pkce not boolean', { pkce: 'yes' }, /options\.pkce must be a boolean/],
  ['proxyRewriteLinks not boolean', { proxyRewriteLinks: 1 }, /options\.proxyRewriteLinks must be a boolean/],
  ['showDialog not boolean', { showDialog: 1 }, /options\.showDialog must be a boolean/],
  ['refreshMargin negative', { refreshMargin: -1 }, /options\.refreshMargin must be a number of at least 0/],
  ['timeout zero', { timeout: 0 }, /options\.timeout must be a number of at least 1/],
  ['timeout NaN', { timeout: Number.NaN }, /options\.timeout must be a number/],
  ['accountsUrl relative', { accountsUrl: 'accounts' }, /options\.accountsUrl must be an absolute http\(s\) URL/],
  ['apiUrl with query', { apiUrl: 'https://api.example/?x' }, /options\.apiUrl must be an absolute http\(s\) URL without query/],
  ['onLogin not a function', { onLogin: 'x' }, /options\.onLogin must be a function/],
  ['onRefresh not a function', { onRefresh: {} }, /options\.onRefresh must be a function/],
  ['cookie not an object', { cookie: 'x' }, /options\.cookie must be an object/],
  ['cookie name invalid', { cookie: { name: 'a b' } }, /options\.cookie\.name must be a valid cookie name/],
  ['cookie sameSite unknown', { cookie: { sameSite: 'relaxed' } }, /options\.cookie\.sameSite must be "lax", "strict" or "none"/],
  ['cookie sameSite none without secure', { cookie: { sameSite: 'none' } }, /options\.cookie\.sameSite "none" needs a secure cookie/],
  ['cookie sameSite none, secure false on https', { redirectUri: 'https://app.example/callback', cookie: { sameSite: 'none', secure: false } }, /options\.cookie\.sameSite "none" needs a secure cookie/],
  ['optionalScopes not an array', { optionalScopes: 'streaming' }, /options\.optionalScopes must be an array/],
  ['optionalScopes unknown to Spotify', { optionalScopes: ['user-read-birthdate'] }, /options\.optionalScopes has "user-read-birthdate", which is not a scope Spotify documents/],
  ['playbackTokenPath relative', { playbackTokenPath: 'token', scopes: ['streaming'] }, /options\.playbackTokenPath must be a path/],
  ['playbackTokenPath true', { playbackTokenPath: true, scopes: ['streaming'] }, /options\.playbackTokenPath must be a path/],
  ['playbackTokenPath same as login', { playbackTokenPath: '/login', scopes: ['streaming'] }, /options\.playbackTokenPath must differ from the login, callback and logout paths/],
  ['playbackTokenPath same as callback', { playbackTokenPath: '/callback', scopes: ['streaming'] }, /options\.playbackTokenPath must differ/],
  ['playbackTokenPath without streaming', { playbackTokenPath: '/token', scopes: ['user-read-private'] }, /options\.playbackTokenPath needs the streaming scope in options\.scopes or options\.optionalScopes/],
  ['routeSchema not an object', { routeSchema: true }, /options\.routeSchema must be an object/],
  ['routeSchema tags a string', { routeSchema: { tags: 'auth' } }, /options\.routeSchema\.tags must be an array of non-empty strings/],
  ['routeSchema tags with an empty one', { routeSchema: { tags: ['auth', ''] } }, /options\.routeSchema\.tags must be an array of non-empty strings/],
  ['routeSchema hide a string', { routeSchema: { hide: 'yes' } }, /options\.routeSchema\.hide must be a boolean/],
  ['cookie domain empty', { cookie: { domain: '' } }, /options\.cookie\.domain must be a non-empty string/],
  ['cookie maxAge zero', { cookie: { maxAge: 0 } }, /options\.cookie\.maxAge must be a number of at least 1/],
  ['cookie secure string', { cookie: { secure: 'yes' } }, /options\.cookie\.secure must be a boolean/],
  ['retry not an object', { retry: 3 }, /options\.retry must be an object/],
  ['retry limit fractional', { retry: { limit: 1.5 } }, /options\.retry\.limit must be an integer/],
  ['retry maxRetryAfter negative', { retry: { maxRetryAfter: -1 } }, /options\.retry\.maxRetryAfter must be a number of at least 0/],
  ['proxyBodyLimit fractional', { proxyBodyLimit: 1.5 }, /options\.proxyBodyLimit must be an integer/],
  ['proxyResponseLimit zero', { proxyResponseLimit: 0 }, /options\.proxyResponseLimit must be a number of at least 1/],
  ['refreshCooldown negative', { refreshCooldown: -1 }, /options\.refreshCooldown must be a number of at least 0/],
  ['trustedOrigins a string', { trustedOrigins: 'https://a.example' }, /options\.trustedOrigins must be an array of origins/],
  ['trustedOrigins with a path', { trustedOrigins: ['https://a.example/app'] }, /options\.trustedOrigins must be an array of origins/],
  ['trustedOrigins not a URL', { trustedOrigins: [42] }, /options\.trustedOrigins must be an array of origins/],
  ['errorHandler unknown', { errorHandler: 'pino' }, /options\.errorHandler must be "spotify" or "app"/],
  ['store factory builds no store', { store: async () => ({ get () {} }) }, /the store built by options\.store must implement get, set, update and delete/]
]

t.test('register rejects each invalid option with a message naming it', async (t) => {
  for (const [name, change, message] of cases) {
    const app = Fastify()
    const error = await app.register(spotifyAuth, { ...valid, ...change } as never).ready().then(() => undefined, (err: Error & { code?: string }) => err)
    t.match(error?.message, message, name)
    t.equal(error?.code, 'FST_SPOTIFY_INVALID_OPTION', name)
    await app.close()
  }
})

t.test('options must be an object', async (t) => {
  t.throws(() => resolveOptions(undefined), /fastify-spotify-auth: options must be an object/)
})

t.test('defaults', async (t) => {
  const resolved = resolveOptions(valid)
  t.match(resolved, {
    callbackPath: '/callback',
    secrets: [SECRET],
    scopes: [],
    optionalScopes: [],
    playbackTokenPath: false,
    routeSchema: { tags: [], hide: false },
    loginPath: '/login',
    logoutPath: '/logout',
    proxyPrefix: '/spotify',
    proxyRewriteLinks: true,
    successRedirect: '/',
    pkce: true,
    showDialog: false,
    refreshMargin: 60_000,
    accountsUrl: 'https://accounts.spotify.com',
    apiUrl: 'https://api.spotify.com',
    timeout: 10_000,
    cookie: { name: 'spotify_session', secure: false, sameSite: 'lax', domain: undefined, maxAge: 2592000 },
    retry: { limit: 2, maxRetryAfter: 10_000 },
    errorHandler: 'spotify'
  })
  t.type((resolved.store as TokenStore).get, 'function')
})

t.test('explicit values are kept and normalised once', async (t) => {
  const store = memoryStore()
  const resolved = resolveOptions({
    ...valid,
    redirectUri: 'https://app.example/auth/spotify/callback',
    secret: [SECRET, SECRET + 'x'],
    scopes: ['streaming', 'user-top-read', 'streaming'],
    store,
    proxyPrefix: false,
    successRedirect: 'https://app.example/home',
    accountsUrl: 'http://127.0.0.1:9999/accounts/',
    apiUrl: 'http://127.0.0.1:9999/',
    cookie: { name: '__Host-s', domain: 'app.example', maxAge: null, sameSite: 'strict' }
  })
  t.equal(resolved.callbackPath, '/auth/spotify/callback')
  t.same(resolved.scopes, ['streaming', 'user-top-read'], 'deduplicated')
  t.equal(resolved.store, store)
  t.equal(resolved.proxyPrefix, false)
  t.equal(resolved.successRedirect, 'https://app.example/home')
  t.equal(resolved.accountsUrl, 'http://127.0.0.1:9999/accounts')
  t.equal(resolved.apiUrl, 'http://127.0.0.1:9999')
  t.same(resolved.cookie, { name: '__Host-s', secure: true, sameSite: 'strict', domain: 'app.example', maxAge: null })
  t.same(resolveOptions({ ...valid, cookie: { secure: true, sameSite: 'none' } }).cookie.sameSite, 'none', 'none with an explicitly secure cookie')
  t.same(resolveOptions({ ...valid, redirectUri: 'https://app.example/cb', cookie: { sameSite: 'none' } }).cookie, { name: 'spotify_session', secure: true, sameSite: 'none', domain: undefined, maxAge: 2592000 }, 'none with the secure default of an https redirectUri')
  const upgrades = resolveOptions({ ...valid, scopes: ['streaming'], optionalScopes: ['user-top-read', 'streaming', 'user-top-read'], playbackTokenPath: '/spotify-token', routeSchema: { tags: ['auth'], hide: true } })
  t.same(upgrades.optionalScopes, ['user-top-read'], 'deduplicated, and without the scopes always asked for')
  t.equal(upgrades.playbackTokenPath, '/spotify-token')
  t.same(upgrades.routeSchema, { tags: ['auth'], hide: true })
  t.equal(resolveOptions({ ...valid, optionalScopes: ['streaming'], playbackTokenPath: '/t' }).playbackTokenPath, '/t', 'streaming may be optional')
  t.equal(resolveOptions({ ...valid, playbackTokenPath: false }).playbackTokenPath, false)
  t.equal(resolveOptions({ ...valid, redirectUri: 'http://[::1]:5543/cb' }).callbackPath, '/cb', 'IPv6 loopback allowed')
  t.equal(resolveOptions({ ...valid, redirectUri: 'https://App.Example.com:443/cb' }).redirectUri, 'https://App.Example.com:443/cb', 'sent exactly as configured')
})

t.test('memoryStore validates its own options', async (t) => {
  t.throws(() => memoryStore({ maxSessions: 0 }), /maxSessions must be a positive integer/)
  t.throws(() => memoryStore({ ttl: -1 }), /ttl must be a positive number/)
})
