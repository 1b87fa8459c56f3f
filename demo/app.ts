/**
 * The demo app, built from a {@link DemoConfig} without listening, so that
 * tests start it on any port and `server.ts` stays a thin entry point.
 */
import rateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import spotifyAuth, { type SpotifyToken } from '../plugin/index.js'
import { REFRESH_TOKEN_MONTHS, refreshTokenExpiry } from '../plugin/accounts/token-endpoint.js'
import {
  createSpotifyEmulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, type EmulatorOptions, type SpotifyEmulator
} from '../plugin/emulator/index.js'
import type { DemoConfig, LogLevel } from './config.js'
import { demoErrorHandler, PageNotFoundError } from './errors.js'
import { newNonce, type PageContext } from './html.js'
import { demoRoutes } from './routes.js'
import { createStore, type DemoStore } from './store.js'

export interface DemoOptions {
  /** Human-readable logs through pino-pretty (`server.ts`: when stdout is a terminal). Default JSON lines. */
  pretty?: boolean
  /** Where JSON log lines go. Default stdout. */
  logStream?: { write (line: string): void }
  /** Extra options of the embedded emulator (tests: `autoApprove`, `now`…). */
  emulator?: EmulatorOptions
}

export interface Demo {
  readonly app: FastifyInstance
  /** The embedded emulator; `undefined` with real Spotify credentials. */
  readonly emulator: SpotifyEmulator | undefined
  readonly store: DemoStore
  /** Closes the server, the emulator and the store. */
  close (): Promise<void>
}

/** Fastify's `logger` option: pino-pretty for a terminal, JSON lines otherwise. */
export function loggerOptions (level: LogLevel, pretty: boolean, stream?: DemoOptions['logStream']): FastifyServerOptions['logger'] {
  if (pretty) {
    return { level, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } }
  }
  return stream === undefined ? { level } : { level, stream }
}

/** Logins (and callbacks) per client address per minute. */
export const LOGIN_RATE = 30

const DAY = 24 * 60 * 60

/**
 * `EMULATOR_REFRESH_TOKEN_DAYS`: a new login's token as if the user had
 * authorized the app six months before `days` from now, so that its
 * refresh token ends when the emulator's does. The plugin counts the six
 * months from `authorizedAt` (kept through refreshes); a month too short
 * for the day (six months before 31 August) moves the end a few days on.
 */
export function endingIn (token: SpotifyToken, days: number): SpotifyToken {
  const authorized = new Date((token.authorizedAt + days * DAY) * 1000)
  authorized.setUTCMonth(authorized.getUTCMonth() - REFRESH_TOKEN_MONTHS)
  const authorizedAt = Math.floor(authorized.getTime() / 1000)
  return { ...token, authorizedAt, refreshTokenExpiresAt: refreshTokenExpiry(authorizedAt) }
}

/**
 * Builds the demo: the store, the emulator unless `config.spotify` is set,
 * the plugin, the pages and the error handler. Resolves once the app is
 * ready to listen; on failure, whatever was started is closed again.
 */
export async function buildDemo (config: DemoConfig, options: DemoOptions = {}): Promise<Demo> {
  const app = Fastify({
    logger: loggerOptions(config.logLevel, options.pretty === true, options.logStream),
    // A client that trickles its request (or never sends the body it
    // announced) is cut off instead of holding a connection and its memory.
    requestTimeout: 30_000,
    connectionTimeout: 60_000
  })
  let store: DemoStore | undefined
  let emulator: SpotifyEmulator | undefined
  try {
    store = await createStore(config, app.log)
    if (config.spotify === undefined) {
      emulator = await createSpotifyEmulator({
        clients: [{ clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET, redirectUris: [config.redirectUri], name: 'fastify-spotify-auth demo' }],
        accessTokenTtl: config.emulatorTokenTtl,
        ...(config.emulatorRefreshTokenDays === undefined ? {} : { refreshTokenTtl: config.emulatorRefreshTokenDays * DAY }),
        ...options.emulator
      })
    }
    const apiUrl = config.apiUrl ?? emulator?.url
    // Profile and playlist pictures come from Spotify's https CDN, or from
    // whatever serves the Web API over plain http (the emulator).
    const imageOrigins = apiUrl === undefined ? [] : [new URL(apiUrl).origin]
    const mode = emulator === undefined ? 'spotify' : 'emulator'
    const context = (): PageContext => ({ nonce: newNonce(), imageOrigins, mode })

    app.setErrorHandler(demoErrorHandler(context))
    app.setNotFoundHandler((request, reply) => {
      reply.send(new PageNotFoundError(`${request.method} ${request.url.split('?')[0]}`))
    })
    // Browsers post forms (Log out, Refresh now) as urlencoded, which Fastify
    // does not parse by itself: without this they would get 415.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      done(null, new URLSearchParams(body as string))
    })

    // Each login creates a session: at most LOGIN_RATE logins (and as many
    // callbacks) per client address a minute, so that no one fills the
    // session store or runs up the app's calls to Spotify.
    app.addHook('onRoute', (route) => {
      if (route.url === '/login' || route.url === new URL(config.redirectUri).pathname) {
        route.config = { ...route.config, rateLimit: { max: LOGIN_RATE, timeWindow: 60_000 } }
      }
    })
    await app.register(rateLimit, { global: false })

    await app.register(spotifyAuth, {
      clientId: config.spotify?.clientId ?? DEFAULT_CLIENT_ID,
      clientSecret: config.spotify?.clientSecret ?? DEFAULT_CLIENT_SECRET,
      redirectUri: config.redirectUri,
      secret: config.sessionSecret,
      scopes: [...config.scopes],
      store: store.store,
      refreshMargin: config.refreshMargin,
      accountsUrl: config.accountsUrl ?? emulator?.url,
      apiUrl,
      // The demo's own handler renders the plugin's errors as pages.
      errorHandler: 'app',
      // Near the six months' end from the start, to show "reconnect by …":
      // the new session's record is written again, backdated, before the
      // browser gets its cookie.
      ...(config.emulatorRefreshTokenDays === undefined
        ? {}
        : {
            async onLogin (request, { sessionId, token }) {
              await request.server.spotify.store.set(sessionId, endingIn(token, config.emulatorRefreshTokenDays as number))
            }
          })
    })
    await app.register(demoRoutes, { context, refreshMargin: config.refreshMargin, allowedOrigins: new Set([new URL(config.redirectUri).origin]) })
    const opened = { store, emulator }
    app.addHook('onClose', async () => {
      await opened.emulator?.close()
      await opened.store.close()
    })
    await app.ready()
    return { app, emulator, store, close: () => app.close() }
  } catch (err) {
    await emulator?.close()
    await store?.close()
    throw err
  }
}
