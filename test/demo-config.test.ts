import t, { type Test } from 'tap'
import { DEFAULT_SCOPES, DemoConfigError, loadConfig, type Env } from '../demo/config.js'

const SECRET = 'x'.repeat(32)

/** The message loadConfig throws for `env`, asserting it is a one-line DemoConfigError. */
function refusal (t: Test, env: Env): string {
  try {
    loadConfig(env)
  } catch (err) {
    t.type(err, DemoConfigError)
    const message = (err as Error).message
    t.notMatch(message, /\n/, 'one line')
    return message
  }
  t.fail('loadConfig accepted ' + JSON.stringify(env))
  return ''
}

t.test('defaults: the emulator on 127.0.0.1:5543, the default scopes, a random secret with a warning', async (t) => {
  const config = loadConfig({})
  t.equal(config.host, '127.0.0.1')
  t.equal(config.port, 5543)
  t.equal(config.redirectUri, 'http://127.0.0.1:5543/callback')
  t.equal(config.publicUrl, 'http://127.0.0.1:5543/')
  t.same(config.scopes, DEFAULT_SCOPES)
  t.same(config.scopes, ['user-read-private', 'user-read-email', 'playlist-read-private', 'playlist-read-collaborative'])
  t.equal(config.spotify, undefined, 'no credentials: the emulator')
  t.equal(config.accountsUrl, undefined)
  t.equal(config.apiUrl, undefined)
  t.equal(config.redisUrl, undefined)
  t.equal(config.logLevel, 'info')
  t.equal(config.emulatorTokenTtl, 120)
  t.equal(config.refreshMargin, 60_000)
  t.ok(config.sessionSecret.length >= 32)
  t.not(loadConfig({}).sessionSecret, config.sessionSecret, 'random each time')
  t.match(config.warnings, [/SESSION_SECRET is not set: .*sessions? end/])
})

t.test('every variable is read', async (t) => {
  const config = loadConfig({
    HOST: '0.0.0.0',
    PORT: '8080',
    SPOTIFY_CLIENT_ID: 'abc123',
    SPOTIFY_CLIENT_SECRET: 'def456',
    SPOTIFY_REDIRECT_URI: 'https://demo.example.com/auth/callback',
    SPOTIFY_SCOPES: 'user-read-email, playlist-read-private,,user-read-email',
    SPOTIFY_ACCOUNTS_URL: 'http://127.0.0.1:9000',
    SPOTIFY_API_URL: 'http://127.0.0.1:9001/',
    SESSION_SECRET: `  ${SECRET}  `,
    REDIS_URL: 'redis://:password@127.0.0.1:6379/2',
    LOG_LEVEL: 'WARN'
  })
  t.equal(config.host, '0.0.0.0')
  t.equal(config.port, 8080)
  t.equal(config.redirectUri, 'https://demo.example.com/auth/callback')
  t.equal(config.publicUrl, 'https://demo.example.com/')
  t.same(config.scopes, ['user-read-email', 'playlist-read-private'], 'comma or space separated, duplicates dropped')
  t.same(config.spotify, { clientId: 'abc123', clientSecret: 'def456' })
  t.equal(config.accountsUrl, 'http://127.0.0.1:9000')
  t.equal(config.apiUrl, 'http://127.0.0.1:9001/')
  t.equal(config.sessionSecret, SECRET, 'trimmed')
  t.equal(config.redisUrl, 'redis://:password@127.0.0.1:6379/2')
  t.equal(config.logLevel, 'warn', 'case-insensitive')
  t.equal(config.refreshMargin, 60_000, 'real Spotify: the plugin default')
  t.same(config.warnings, [])
})

t.test('Redis Cluster and Sentinel addresses', async (t) => {
  const cluster = loadConfig({ SESSION_SECRET: SECRET, REDIS_CLUSTER_NODES: ' 127.0.0.1:7000, redis-1.internal:7001,[::1]:7002 ' })
  t.same(cluster.redisClusterNodes, [{ host: '127.0.0.1', port: 7000 }, { host: 'redis-1.internal', port: 7001 }, { host: '::1', port: 7002 }])
  t.equal(cluster.redisSentinel, undefined)
  const sentinel = loadConfig({ SESSION_SECRET: SECRET, REDIS_SENTINELS: '127.0.0.1:26379,127.0.0.1:26380', REDIS_SENTINEL_NAME: 'mymaster' })
  t.same(sentinel.redisSentinel, { sentinels: [{ host: '127.0.0.1', port: 26379 }, { host: '127.0.0.1', port: 26380 }], name: 'mymaster' })
  t.equal(sentinel.redisClusterNodes, undefined)
  t.equal(sentinel.redisUrl, undefined)
})

t.test('space-separated scopes', async (t) => {
  t.same(loadConfig({ SPOTIFY_SCOPES: ' user-top-read   user-read-recently-played ' }).scopes, ['user-top-read', 'user-read-recently-played'])
})

t.test('an empty variable counts as unset', async (t) => {
  const config = loadConfig({ HOST: '', PORT: ' ', SPOTIFY_CLIENT_ID: '', SPOTIFY_CLIENT_SECRET: '', SPOTIFY_SCOPES: '', SESSION_SECRET: '', LOG_LEVEL: '' })
  t.equal(config.port, 5543)
  t.equal(config.spotify, undefined)
  t.same(config.scopes, DEFAULT_SCOPES)
  t.equal(config.warnings.length, 1)
})

t.test('the default redirect URI follows PORT and an IPv6 loopback HOST', async (t) => {
  t.equal(loadConfig({ PORT: '6000' }).redirectUri, 'http://127.0.0.1:6000/callback')
  t.equal(loadConfig({ HOST: '::1' }).redirectUri, 'http://[::1]:5543/callback')
  t.equal(loadConfig({ HOST: '::1' }).publicUrl, 'http://[::1]:5543/')
  for (const host of ['localhost', '0.0.0.0', '::', '127.0.0.2']) {
    t.equal(loadConfig({ HOST: host }).redirectUri, 'http://127.0.0.1:5543/callback', host)
  }
  t.equal(loadConfig({ SPOTIFY_REDIRECT_URI: 'http://[::1]:7000/cb' }).redirectUri, 'http://[::1]:7000/cb')
})

t.test('EMULATOR_TOKEN_TTL sets the emulator token lifetime, and a short one a shorter refresh margin', async (t) => {
  t.equal(loadConfig({ EMULATOR_TOKEN_TTL: '3600' }).emulatorTokenTtl, 3600)
  t.equal(loadConfig({ EMULATOR_TOKEN_TTL: '3600' }).refreshMargin, 60_000)
  t.equal(loadConfig({ EMULATOR_TOKEN_TTL: '30' }).refreshMargin, 15_000, 'half the lifetime')
  t.equal(loadConfig({ EMULATOR_TOKEN_TTL: '1' }).refreshMargin, 0)
  const real = loadConfig({ SPOTIFY_CLIENT_ID: 'a1', SPOTIFY_CLIENT_SECRET: 'b2', SESSION_SECRET: SECRET, EMULATOR_TOKEN_TTL: '30' })
  t.equal(real.refreshMargin, 60_000)
  t.match(real.warnings, [/EMULATOR_TOKEN_TTL is ignored with real Spotify/])
})

t.test('EMULATOR_REFRESH_TOKEN_DAYS: unset, six months; ignored with real Spotify', async (t) => {
  t.equal(loadConfig({}).emulatorRefreshTokenDays, undefined)
  t.equal(loadConfig({ EMULATOR_REFRESH_TOKEN_DAYS: '20' }).emulatorRefreshTokenDays, 20)
  t.equal(loadConfig({ EMULATOR_REFRESH_TOKEN_DAYS: '180' }).emulatorRefreshTokenDays, 180)
  const real = loadConfig({ SPOTIFY_CLIENT_ID: 'a1', SPOTIFY_CLIENT_SECRET: 'b2', SESSION_SECRET: SECRET, EMULATOR_REFRESH_TOKEN_DAYS: '20' })
  t.equal(real.emulatorRefreshTokenDays, undefined)
  t.match(real.warnings, [/EMULATOR_REFRESH_TOKEN_DAYS is ignored with real Spotify/])
})

t.test('each bad variable stops start-up with a one-line message saying what to fix', async (t) => {
  const cases: Array<[Env, RegExp]> = [
    [{ PORT: 'abc' }, /^PORT must be a whole number from 1 to 65535 \(got "abc"\)$/],
    [{ PORT: '0' }, /^PORT must be a whole number from 1 to 65535 \(got "0"\)$/],
    [{ PORT: '65536' }, /^PORT must be/],
    [{ PORT: '80.5' }, /^PORT must be/],
    [{ PORT: '-1' }, /^PORT must be/],
    [{ HOST: 'my host' }, /^HOST must be a host name or IP address such as 127\.0\.0\.1/],
    [{ HOST: '10.1.2.3' }, /^HOST is 10\.1\.2\.3, which the default redirect URI http:\/\/127\.0\.0\.1:5543\/callback does not reach: set SPOTIFY_REDIRECT_URI too$/],
    [{ SPOTIFY_REDIRECT_URI: 'http://localhost:5543/callback' }, /^SPOTIFY_REDIRECT_URI must not use localhost, which Spotify refuses \(use 127\.0\.0\.1\), such as http:\/\/127\.0\.0\.1:5543\/callback \(got "http:\/\/localhost:5543\/callback"\)$/],
    [{ SPOTIFY_REDIRECT_URI: 'https://localhost/callback' }, /must not use localhost/],
    [{ SPOTIFY_REDIRECT_URI: 'http://demo.example.com/callback' }, /^SPOTIFY_REDIRECT_URI must use https, or plain http only on 127\.0\.0\.1 or \[::1\]/],
    [{ SPOTIFY_REDIRECT_URI: '/callback' }, /^SPOTIFY_REDIRECT_URI must be an absolute http\(s\) URL, such as http:\/\/127\.0\.0\.1:5543\/callback \(got "\/callback"\)$/],
    [{ SPOTIFY_REDIRECT_URI: 'ftp://127.0.0.1/callback' }, /must be an absolute http\(s\) URL/],
    [{ SPOTIFY_REDIRECT_URI: 'http://127.0.0.1:5543/callback?x=1' }, /must not have a query or a fragment/],
    [{ SPOTIFY_REDIRECT_URI: 'http://127.0.0.1:5543/callback#x' }, /must not have a query or a fragment/],
    [{ SPOTIFY_REDIRECT_URI: 'http://127.0.0.1:5543/' }, /path must not be one the demo serves/],
    [{ SPOTIFY_REDIRECT_URI: 'http://127.0.0.1:5543/login' }, /path must not be one the demo serves/],
    [{ SPOTIFY_REDIRECT_URI: 'http://127.0.0.1:5543/spotify/callback' }, /path must not be one the demo serves/],
    [{ SPOTIFY_REDIRECT_URI: 'http://127.0.0.1:5543/demo/callback' }, /path must not be one the demo serves/],
    [{ SPOTIFY_CLIENT_ID: 'abc123' }, /^SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET must be set together \(only SPOTIFY_CLIENT_ID is set\); unset both to use the emulator$/],
    [{ SPOTIFY_CLIENT_SECRET: 'def456' }, /\(only SPOTIFY_CLIENT_SECRET is set\)/],
    [{ SPOTIFY_CLIENT_ID: '"abc123"', SPOTIFY_CLIENT_SECRET: 'def456' }, /^SPOTIFY_CLIENT_ID must be the Client ID shown in your app's Spotify dashboard/],
    [{ SPOTIFY_CLIENT_ID: 'abc123', SPOTIFY_CLIENT_SECRET: 'secret with spaces' }, /^SPOTIFY_CLIENT_SECRET must be the Client secret shown/],
    [{ SPOTIFY_SCOPES: 'user-read-email playlist-read-everything' }, /^SPOTIFY_SCOPES has "playlist-read-everything", which is not a Spotify scope/],
    [{ SPOTIFY_ACCOUNTS_URL: 'accounts.spotify.com' }, /^SPOTIFY_ACCOUNTS_URL must be an absolute http\(s\) URL without query, such as https:\/\/accounts\.spotify\.com \(got "accounts\.spotify\.com"\)$/],
    [{ SPOTIFY_API_URL: 'https://api.spotify.com/?x=1' }, /^SPOTIFY_API_URL must be an absolute http\(s\) URL without query, such as https:\/\/api\.spotify\.com/],
    [{ SPOTIFY_API_URL: 'ws://127.0.0.1:1' }, /^SPOTIFY_API_URL must be/],
    [{ SESSION_SECRET: 'too-short' }, /^SESSION_SECRET must be at least 32 characters \(it has 9\); make one with: openssl rand -base64 32$/],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, /^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL such as redis:\/\/127\.0\.0\.1:6379$/],
    [{ REDIS_URL: 'localhost:6379' }, /^REDIS_URL must be/],
    [{ REDIS_URL: 'not a url' }, /^REDIS_URL must be/],
    [{ REDIS_URL: 'redis://' }, /^REDIS_URL must be/],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1' }, /^REDIS_CLUSTER_NODES must be a comma-separated list of host:port, such as 127\.0\.0\.1:7000,127\.0\.0\.1:7001,127\.0\.0\.1:7002 \(got "127\.0\.0\.1"\)$/],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:70000' }, /^REDIS_CLUSTER_NODES must be/],
    [{ REDIS_CLUSTER_NODES: 'redis://127.0.0.1:7000' }, /^REDIS_CLUSTER_NODES must be/],
    [{ REDIS_SENTINELS: '127.0.0.1:26379' }, /^REDIS_SENTINELS needs REDIS_SENTINEL_NAME: the master's name in the sentinels' config \(sentinel monitor <name> …\), such as mymaster$/],
    [{ REDIS_SENTINEL_NAME: 'mymaster' }, /^REDIS_SENTINEL_NAME is set without REDIS_SENTINELS/],
    [{ REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'my master' }, /^REDIS_SENTINEL_NAME must be letters, digits, dots, dashes or underscores \(got "my master"\)$/],
    [{ REDIS_SENTINELS: '127.0.0.1:0', REDIS_SENTINEL_NAME: 'mymaster' }, /^REDIS_SENTINELS must be a comma-separated list of host:port, such as 127\.0\.0\.1:26379/],
    [{ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }, /^REDIS_URL and REDIS_CLUSTER_NODES are both set: unset one, the demo keeps sessions in one store$/],
    [{ REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'm', DATABASE_URL: 'postgres://127.0.0.1/test' }, /^REDIS_SENTINELS and DATABASE_URL are both set/],
    [{ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_SENTINELS: '127.0.0.1:26379' }, /^REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS are all set: keep one, the demo keeps sessions in one store$/],
    [{ LOG_LEVEL: 'verbose' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "verbose"\)$/],
    [{ EMULATOR_TOKEN_TTL: '2m' }, /^EMULATOR_TOKEN_TTL must be a whole number of seconds from 1 to 86400 \(got "2m"\)$/],
    [{ EMULATOR_TOKEN_TTL: '0' }, /^EMULATOR_TOKEN_TTL must be/],
    [{ EMULATOR_TOKEN_TTL: '86401' }, /^EMULATOR_TOKEN_TTL must be/],
    [{ EMULATOR_REFRESH_TOKEN_DAYS: '20d' }, /^EMULATOR_REFRESH_TOKEN_DAYS must be a whole number of days from 1 to 180 \(got "20d"\)$/],
    [{ EMULATOR_REFRESH_TOKEN_DAYS: '0' }, /^EMULATOR_REFRESH_TOKEN_DAYS must be/],
    [{ EMULATOR_REFRESH_TOKEN_DAYS: '181' }, /^EMULATOR_REFRESH_TOKEN_DAYS must be/]
  ]
  for (const [env, message] of cases) {
    t.match(refusal(t, { SESSION_SECRET: SECRET, ...env }), message, JSON.stringify(env))
  }
})

t.test('secrets are never echoed, and long values are cut short', async (t) => {
  const secret = refusal(t, { SPOTIFY_CLIENT_ID: 'abc', SPOTIFY_CLIENT_SECRET: 'my secret!' })
  t.notMatch(secret, /my secret/)
  t.notMatch(refusal(t, { SESSION_SECRET: 'hunter2' }), /hunter2/)
  t.notMatch(refusal(t, { REDIS_URL: 'http://user:pa55word@redis' }), /pa55word/)
  const long = refusal(t, { PORT: '9'.repeat(100) })
  t.match(long, /\(got "9{57}\.\.\."\)$/)
})
