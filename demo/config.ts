/**
 * The demo's configuration: every environment variable of demo/README.md
 * ("Settings"), read and checked in one pure function, so that a bad
 * value stops start-up with one line that names the variable and the fix.
 */
import { randomBytes } from 'node:crypto'
import { SCOPES } from '../plugin/accounts/scopes.js'
import { redirectUriProblem } from '../plugin/accounts/redirect-uri.js'

/** A bad environment variable: the message is one line saying what to fix. */
export class DemoConfigError extends Error {
  override name = 'DemoConfigError'
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export const DEFAULT_PORT = 5543
export const DEFAULT_SCOPES = ['user-read-private', 'user-read-email', 'playlist-read-private', 'playlist-read-collaborative']
/** Seconds: short, so that the demo shows a refresh within a minute or two. */
export const DEFAULT_EMULATOR_TOKEN_TTL = 120
/** The most `EMULATOR_REFRESH_TOKEN_DAYS` may ask: under Spotify's six months. */
export const MAX_EMULATOR_REFRESH_TOKEN_DAYS = 180
/** The plugin's default `refreshMargin`, in ms. */
const REFRESH_MARGIN = 60_000

export interface DemoConfig {
  /** Interface to listen on. */
  readonly host: string
  readonly port: number
  /** The callback URL registered with Spotify (or the emulator). */
  readonly redirectUri: string
  /** What the browser opens: the redirect URI's origin, so that cookies and callback agree. */
  readonly publicUrl: string
  readonly scopes: readonly string[]
  /** Your Spotify app's credentials; `undefined`: the embedded emulator is started and used. */
  readonly spotify: { readonly clientId: string, readonly clientSecret: string } | undefined
  /** Overrides of the plugin's `accountsUrl` / `apiUrl` (default: Spotify's, or the emulator's). */
  readonly accountsUrl: string | undefined
  readonly apiUrl: string | undefined
  /** `SESSION_SECRET`, or a random one (with a warning) when unset. */
  readonly sessionSecret: string
  readonly redisUrl: string | undefined
  /** `REDIS_CLUSTER_NODES`: sessions in a Redis Cluster, reached through these nodes. */
  readonly redisClusterNodes: readonly RedisAddress[] | undefined
  /** `REDIS_SENTINELS` and `REDIS_SENTINEL_NAME`: sessions in the master these sentinels name. */
  readonly redisSentinel: { readonly sentinels: readonly RedisAddress[], readonly name: string } | undefined
  /** `DATABASE_URL`: sessions in PostgreSQL (never together with `redisUrl`). */
  readonly databaseUrl: string | undefined
  readonly logLevel: LogLevel
  /** Lifetime of the emulator's access tokens, in seconds. */
  readonly emulatorTokenTtl: number
  /**
   * `EMULATOR_REFRESH_TOKEN_DAYS`: a new login's refresh token ends this
   * many days later instead of six months (emulator only); `undefined`:
   * six months, as on Spotify.
   */
  readonly emulatorRefreshTokenDays: number | undefined
  /** The plugin's `refreshMargin` in ms: 60 s, or half the emulator's token lifetime when that is shorter. */
  readonly refreshMargin: number
  /** Things to warn about at start-up. */
  readonly warnings: readonly string[]
}

export type Env = Readonly<Record<string, string | undefined>>

export interface RedisAddress {
  readonly host: string
  readonly port: number
}

function fail (message: string): never {
  throw new DemoConfigError(message)
}

/** A value for a message: quoted, and cut short. */
function shown (value: string): string {
  return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value)
}

/** The variable's value, trimmed; an empty one counts as unset. */
function read (env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function wholeNumber (env: Env, name: string, fallback: number, min: number, max: number, unit: string): number {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  const value = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN
  if (!(value >= min && value <= max)) fail(`${name} must be a whole number ${unit}from ${min} to ${max} (got ${shown(raw)})`)
  return value
}

const HOST = /^[A-Za-z0-9.:-]+$/
/** Hosts the default redirect URI (on 127.0.0.1) reaches. */
const LOOPBACK_OR_ANY = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|0\.0\.0\.0|::)$/

function hostOf (env: Env): string {
  const host = read(env, 'HOST') ?? '127.0.0.1'
  if (!HOST.test(host)) fail(`HOST must be a host name or IP address such as 127.0.0.1 or 0.0.0.0 (got ${shown(host)})`)
  return host
}

function defaultRedirectUri (host: string, port: number): string {
  if (host === '::1') return `http://[::1]:${port}/callback`
  if (!LOOPBACK_OR_ANY.test(host)) {
    fail(`HOST is ${host}, which the default redirect URI http://127.0.0.1:${port}/callback does not reach: set SPOTIFY_REDIRECT_URI too`)
  }
  return `http://127.0.0.1:${port}/callback`
}

/** Paths the demo itself serves, which the callback must not take. */
const RESERVED = /^\/(login|logout|spotify(\/.*)?|demo(\/.*)?)?$/

function redirectUriOf (env: Env, host: string, port: number): URL {
  const raw = read(env, 'SPOTIFY_REDIRECT_URI') ?? defaultRedirectUri(host, port)
  const problem = redirectUriProblem(raw)
  if (problem !== undefined) fail(`SPOTIFY_REDIRECT_URI ${problem}, such as http://127.0.0.1:${port}/callback (got ${shown(raw)})`)
  const url = new URL(raw)
  if (RESERVED.test(url.pathname)) {
    fail('SPOTIFY_REDIRECT_URI\'s path must not be one the demo serves (/, /login, /logout, /spotify/…, /demo/…): use /callback')
  }
  return url
}

function scopesOf (env: Env): string[] {
  const raw = read(env, 'SPOTIFY_SCOPES')
  if (raw === undefined) return DEFAULT_SCOPES
  const scopes = [...new Set(raw.split(/[\s,]+/).filter((s) => s !== ''))]
  const unknown = scopes.find((s) => !SCOPES.has(s))
  if (unknown !== undefined) {
    fail(`SPOTIFY_SCOPES has ${shown(unknown)}, which is not a Spotify scope (see https://developer.spotify.com/documentation/web-api/concepts/scopes)`)
  }
  return scopes
}

const CREDENTIAL = /^[A-Za-z0-9]+$/

function spotifyOf (env: Env): DemoConfig['spotify'] {
  const clientId = read(env, 'SPOTIFY_CLIENT_ID')
  const clientSecret = read(env, 'SPOTIFY_CLIENT_SECRET')
  if (clientId === undefined && clientSecret === undefined) return undefined
  if (clientId === undefined || clientSecret === undefined) {
    fail(`SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET must be set together (only ${clientId === undefined ? 'SPOTIFY_CLIENT_SECRET' : 'SPOTIFY_CLIENT_ID'} is set); unset both to use the emulator`)
  }
  // The secret is never echoed, not even in part.
  if (!CREDENTIAL.test(clientId)) fail('SPOTIFY_CLIENT_ID must be the Client ID shown in your app\'s Spotify dashboard (letters and digits only)')
  if (!CREDENTIAL.test(clientSecret)) fail('SPOTIFY_CLIENT_SECRET must be the Client secret shown in your app\'s Spotify dashboard (letters and digits only)')
  return { clientId, clientSecret }
}

function baseUrlOf (env: Env, name: string, example: string): string | undefined {
  const raw = read(env, name)
  if (raw === undefined) return undefined
  const url = URL.canParse(raw) ? new URL(raw) : undefined
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    fail(`${name} must be an absolute http(s) URL without query, such as ${example} (got ${shown(raw)})`)
  }
  return raw
}

function redisUrlOf (env: Env): string | undefined {
  const raw = read(env, 'REDIS_URL')
  if (raw === undefined) return undefined
  // Not echoed: it may carry a password.
  const url = URL.canParse(raw) ? new URL(raw) : undefined
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    fail('REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379')
  }
  return raw
}

/** `host:port,host:port…` (an IPv6 host in brackets), or a failure naming the variable. */
function addressesOf (env: Env, name: string, example: string): RedisAddress[] | undefined {
  const raw = read(env, name)
  if (raw === undefined) return undefined
  const addresses = raw.split(',').map((entry) => {
    const match = /^\[?([A-Za-z0-9.:-]+?)\]?:(\d{1,5})$/.exec(entry.trim())
    const port = Number(match?.[2])
    if (match === null || !(port >= 1 && port <= 65535)) fail(`${name} must be a comma-separated list of host:port, such as ${example} (got ${shown(raw)})`)
    return { host: match[1] as string, port }
  })
  return addresses
}

function redisSentinelOf (env: Env): DemoConfig['redisSentinel'] {
  const sentinels = addressesOf(env, 'REDIS_SENTINELS', '127.0.0.1:26379,127.0.0.1:26380')
  const name = read(env, 'REDIS_SENTINEL_NAME')
  if (sentinels === undefined && name === undefined) return undefined
  if (sentinels === undefined) fail('REDIS_SENTINEL_NAME is set without REDIS_SENTINELS: list the sentinels too, such as 127.0.0.1:26379,127.0.0.1:26380')
  if (name === undefined) fail('REDIS_SENTINELS needs REDIS_SENTINEL_NAME: the master\'s name in the sentinels\' config (sentinel monitor <name> …), such as mymaster')
  if (!/^[A-Za-z0-9._-]+$/.test(name)) fail(`REDIS_SENTINEL_NAME must be letters, digits, dots, dashes or underscores (got ${shown(name)})`)
  return { sentinels, name }
}

/** One store at most: the demo keeps sessions in one place. */
function oneStore (env: Env): void {
  const set = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'DATABASE_URL'].filter((name) => read(env, name) !== undefined)
  if (set.length === 2) fail(`${set.join(' and ')} are both set: unset one, the demo keeps sessions in one store`)
  if (set.length > 2) fail(`${set.join(', ')} are all set: keep one, the demo keeps sessions in one store`)
}

function databaseUrlOf (env: Env): string | undefined {
  const raw = read(env, 'DATABASE_URL')
  if (raw === undefined) return undefined
  // Not echoed: it may carry a password.
  const url = URL.canParse(raw) ? new URL(raw) : undefined
  if (url === undefined || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || url.hostname === '') {
    fail('DATABASE_URL must be a postgres:// or postgresql:// URL such as postgres://postgres@127.0.0.1:5432/test')
  }
  return raw
}

function logLevelOf (env: Env): LogLevel {
  const raw = read(env, 'LOG_LEVEL') ?? 'info'
  const level = LOG_LEVELS.find((l) => l === raw.toLowerCase())
  if (level === undefined) fail(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${shown(raw)})`)
  return level
}

function randomSecret (): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Reads the demo's configuration from `env` (normally `process.env`). Throws
 * a {@link DemoConfigError} whose one-line message says which variable is
 * wrong and how to fix it. Nothing else is read or started.
 */
export function loadConfig (env: Env): DemoConfig {
  const warnings: string[] = []
  oneStore(env)
  const host = hostOf(env)
  const port = wholeNumber(env, 'PORT', DEFAULT_PORT, 1, 65535, '')
  const redirect = redirectUriOf(env, host, port)
  const spotify = spotifyOf(env)

  let sessionSecret = read(env, 'SESSION_SECRET')
  if (sessionSecret === undefined) {
    sessionSecret = randomSecret()
    warnings.push('SESSION_SECRET is not set: using a random one, so every session ends when the demo restarts')
  } else if (sessionSecret.length < 32) {
    fail(`SESSION_SECRET must be at least 32 characters (it has ${sessionSecret.length}); make one with: openssl rand -base64 32`)
  }

  const emulatorTokenTtl = wholeNumber(env, 'EMULATOR_TOKEN_TTL', DEFAULT_EMULATOR_TOKEN_TTL, 1, 86400, 'of seconds ')
  if (spotify !== undefined && read(env, 'EMULATOR_TOKEN_TTL') !== undefined) {
    warnings.push('EMULATOR_TOKEN_TTL is ignored with real Spotify, whose access tokens last an hour')
  }

  let emulatorRefreshTokenDays: number | undefined
  if (read(env, 'EMULATOR_REFRESH_TOKEN_DAYS') !== undefined) {
    emulatorRefreshTokenDays = wholeNumber(env, 'EMULATOR_REFRESH_TOKEN_DAYS', 0, 1, MAX_EMULATOR_REFRESH_TOKEN_DAYS, 'of days ')
    if (spotify !== undefined) {
      emulatorRefreshTokenDays = undefined
      warnings.push('EMULATOR_REFRESH_TOKEN_DAYS is ignored with real Spotify, whose refresh tokens last six months from the user\'s authorization')
    }
  }

  return {
    host,
    port,
    redirectUri: redirect.href,
    publicUrl: `${redirect.origin}/`,
    scopes: scopesOf(env),
    spotify,
    accountsUrl: baseUrlOf(env, 'SPOTIFY_ACCOUNTS_URL', 'https://accounts.spotify.com'),
    apiUrl: baseUrlOf(env, 'SPOTIFY_API_URL', 'https://api.spotify.com'),
    sessionSecret,
    redisUrl: redisUrlOf(env),
    redisClusterNodes: addressesOf(env, 'REDIS_CLUSTER_NODES', '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002'),
    redisSentinel: redisSentinelOf(env),
    databaseUrl: databaseUrlOf(env),
    logLevel: logLevelOf(env),
    emulatorTokenTtl,
    emulatorRefreshTokenDays,
    refreshMargin: spotify === undefined ? Math.min(REFRESH_MARGIN, Math.floor(emulatorTokenTtl / 2) * 1000) : REFRESH_MARGIN,
    warnings
  }
}
