import type { FastifyInstance, FastifySchema } from 'fastify'
import type { ResolvedOptions } from '../options.js'

/*
 * JSON schemas of the plugin's routes, for the app's OpenAPI document
 * (`@fastify/swagger`). They describe and never decide: the routes check
 * their own input (a repeated `returnTo` is ignored, not a 400), and answer
 * whatever the Web API or the app's error handler produced.
 */

/** `errorBody()`'s shape, as the plugin's routes send it with `errorHandler: 'spotify'`. */
const ERROR = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        status: { type: 'integer', description: 'The HTTP status' },
        message: { type: 'string' },
        code: { type: 'string', description: 'A stable FST_SPOTIFY_* code' }
      }
    }
  }
} as const

function error (description: string): Record<string, unknown> {
  return { description, ...ERROR }
}

const REDIRECT = { description: 'Redirect', type: 'null' } as const

/*
 * The proxy's schemas have no `params`: even a validator that passes
 * everything is a call per request on the hot path.
 */

/** The statuses any route that loads a session may answer. */
const SESSION_ERRORS = {
  401: error('No session, or Spotify ended it (FST_SPOTIFY_NO_SESSION, FST_SPOTIFY_SESSION_REVOKED)'),
  502: error('Spotify unreachable or failing (FST_SPOTIFY_UPSTREAM_ERROR, FST_SPOTIFY_UPSTREAM_TOO_LARGE)'),
  503: error('The token store is unavailable, or a refresh elsewhere has not finished (FST_SPOTIFY_STORE_UNAVAILABLE, FST_SPOTIFY_REFRESH_BUSY)'),
  504: error('Spotify did not answer in time (FST_SPOTIFY_UPSTREAM_TIMEOUT)')
}

/** The app's rate-limit window: Spotify's own 429 first, then the plugin's while its Retry-After runs. */
const RATE_LIMITED = {
  ...error('Spotify\'s rate limit: its own 429 passed on, then FST_SPOTIFY_RATE_LIMITED until Retry-After has passed; its quota spent (reason QUOTA_EXCEEDED): FST_SPOTIFY_QUOTA_EXCEEDED at once and until then'),
  headers: { 'retry-after': { type: 'integer', description: 'Seconds to wait' } }
}

export type RouteName = 'login' | 'callback' | 'logout' | 'proxyRead' | 'proxyWrite' | 'playbackToken' | 'session' | 'devices' | 'endDevice' | 'endOtherDevices'

/** What every session route may answer: from the store alone, so no refresh and no Spotify failure. */
const SESSION_ROUTE_ERRORS = {
  401: error('No session (FST_SPOTIFY_NO_SESSION)'),
  503: error('The token store is unavailable (FST_SPOTIFY_STORE_UNAVAILABLE)')
}

/** The device routes read the user's sessions from the store's per-user index. */
const DEVICE_ROUTE_ERRORS = {
  ...SESSION_ROUTE_ERRORS,
  500: error('The store keeps no per-user index (FST_SPOTIFY_STORE_UNSUPPORTED)')
}

/** The unsafe device routes pass the same-origin check too. */
const UNSAFE_DEVICE_ROUTE_ERRORS = {
  ...DEVICE_ROUTE_ERRORS,
  403: error('Sent from another origin\'s page (FST_SPOTIFY_CROSS_SITE)')
}

const UNIX_SECONDS = { type: 'integer', description: 'Unix time in seconds' } as const

const DEVICE = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'A public handle of the session (never its id): pass it to DELETE …/devices/:id' },
    createdAt: { ...UNIX_SECONDS, description: 'When the user logged in on it (Unix seconds)' },
    lastUsedAt: { ...UNIX_SECONDS, description: 'When it last got a token, its login or last refresh (Unix seconds; within an hour of its last use)' },
    userAgent: { type: 'string', description: 'The browser family, such as "Chrome on macOS"' },
    current: { type: 'boolean', description: 'The session that asked' }
  }
} as const

const SCHEMAS: Record<RouteName, FastifySchema & Record<string, unknown>> = {
  session: {
    summary: 'Who is logged in',
    description: 'The current session, from the store (no call to Spotify). Never cached.',
    response: {
      200: {
        description: 'The session',
        type: 'object',
        properties: {
          user: {
            type: 'object',
            properties: {
              id: { type: 'string', description: 'The Spotify user id' },
              accountId: { type: ['string', 'null'], description: 'Spotify\'s account_id, for linking accounts' },
              displayName: { type: ['string', 'null'] }
            }
          },
          scopes: { type: 'array', items: { type: 'string' } },
          expiresAt: { ...UNIX_SECONDS, description: 'When the access token expires (Unix seconds); the plugin refreshes it by itself' },
          reauthBy: { ...UNIX_SECONDS, description: 'When the refresh token ends and the user must log in again (Unix seconds)' }
        }
      },
      ...SESSION_ROUTE_ERRORS
    }
  },
  devices: {
    summary: 'The current user\'s sessions',
    description: 'Every live session of the logged-in user, the current one first, then the most recently used. Never cached.',
    response: {
      200: { description: 'The devices', type: 'object', properties: { devices: { type: 'array', items: DEVICE } } },
      ...DEVICE_ROUTE_ERRORS
    }
  },
  endDevice: {
    summary: 'Sign one of your devices out',
    description: 'Ends one of the current user\'s sessions by its handle (the current one too, clearing its cookie).',
    params: { type: 'object', properties: { id: { type: 'string', description: 'A handle from GET …/devices' } } },
    response: {
      204: { description: 'Ended', type: 'null' },
      404: error('Not one of your sessions, whether it exists or not (FST_SPOTIFY_DEVICE_NOT_FOUND)'),
      ...UNSAFE_DEVICE_ROUTE_ERRORS
    }
  },
  endOtherDevices: {
    summary: 'Sign out everywhere else',
    description: 'Ends every session of the current user except this one. Any body (up to 1 KiB) is ignored.',
    response: {
      200: { description: 'How many sessions ended', type: 'object', properties: { ended: { type: 'integer' } } },
      ...UNSAFE_DEVICE_ROUTE_ERRORS
    }
  },
  login: {
    summary: 'Log in with Spotify',
    description: 'Redirects to Spotify\'s consent page, then to `returnTo` once the callback has run.',
    querystring: {
      type: 'object',
      properties: {
        returnTo: { type: 'string', description: 'A same-origin path to come back to; anything else is ignored' },
        scope: { type: 'string', description: 'Space-separated scopes to ask for besides the configured ones; only those in optionalScopes count' }
      }
    },
    response: { 302: { ...REDIRECT, description: 'To Spotify\'s consent page' } }
  },
  callback: {
    summary: 'Spotify\'s redirect back after consent',
    description: 'Exchanges the code, starts a new session and sets its cookie.',
    querystring: {
      type: 'object',
      properties: {
        state: { type: 'string' },
        code: { type: 'string' },
        error: { type: 'string', description: 'Spotify\'s refusal, e.g. access_denied' }
      }
    },
    response: {
      200: { description: 'With cookie.sameSite "strict": a small page of the app that navigates to returnTo or successRedirect (a redirect would not carry the Strict cookie)', type: 'string' },
      302: { ...REDIRECT, description: 'To returnTo or successRedirect, with the session cookie' },
      400: error('No code, or Spotify refused it (FST_SPOTIFY_MISSING_CODE, FST_SPOTIFY_INVALID_CODE)'),
      401: error('The user refused (FST_SPOTIFY_AUTHORIZATION_DENIED)'),
      403: error('State missing or not this browser\'s (FST_SPOTIFY_INVALID_STATE)'),
      502: SESSION_ERRORS[502],
      503: SESSION_ERRORS[503],
      504: SESSION_ERRORS[504]
    }
  },
  logout: {
    summary: 'Log out',
    description: 'Ends the session and clears its cookie. Any body (up to 1 KiB) is ignored.',
    response: {
      303: { ...REDIRECT, description: 'To successRedirect' },
      403: error('Posted from another origin\'s page (FST_SPOTIFY_CROSS_SITE)'),
      503: SESSION_ERRORS[503]
    }
  },
  proxyRead: {
    summary: 'The Spotify Web API, as the session\'s user',
    description: 'Forwards to {apiUrl}/v1/* with the session\'s token; the response is the Web API\'s.',
    response: {
      default: { description: 'The Web API\'s response, passed through' },
      400: error('A path that could leave /v1/ (FST_SPOTIFY_INVALID_PATH)'),
      429: RATE_LIMITED,
      ...SESSION_ERRORS
    }
  },
  proxyWrite: {
    summary: 'The Spotify Web API, as the session\'s user',
    description: 'Forwards to {apiUrl}/v1/* with the session\'s token and the body as it came; the response is the Web API\'s.',
    response: {
      default: { description: 'The Web API\'s response, passed through' },
      400: error('A path that could leave /v1/ (FST_SPOTIFY_INVALID_PATH)'),
      429: RATE_LIMITED,
      403: error('Sent from another origin\'s page (FST_SPOTIFY_CROSS_SITE)'),
      ...SESSION_ERRORS
    }
  },
  playbackToken: {
    summary: 'The session\'s access token, for the Web Playback SDK',
    description: 'Only to pages of the app (Sec-Fetch-Site, Origin, or the X-Spotify-Auth: 1 header), and only with the streaming scope. Never cached.',
    headers: {
      type: 'object',
      properties: { 'x-spotify-auth': { type: 'string', enum: ['1'], description: 'Send it: older browsers give no other sign of a same-origin request' } }
    },
    response: {
      200: {
        description: 'A valid access token',
        type: 'object',
        properties: {
          accessToken: { type: 'string' },
          expiresAt: { type: 'integer', description: 'Unix time in seconds' }
        }
      },
      403: error('Not from a page of the app (FST_SPOTIFY_CROSS_SITE), or no streaming scope (FST_SPOTIFY_MISSING_SCOPES)'),
      ...SESSION_ERRORS
    }
  }
}

/** The routes `requireHeader` guards (required-header.ts): each may answer its 403. */
const GUARDED: ReadonlySet<RouteName> = new Set(['proxyRead', 'proxyWrite', 'playbackToken', 'session', 'devices', 'endDevice', 'endOtherDevices'])

/**
 * A guarded route's schema with `requireHeader`'s 403 beside the route's
 * own (only then: without the option, no request is refused for it).
 */
function withRequiredHeader (schema: FastifySchema & Record<string, unknown>, header: string): FastifySchema & Record<string, unknown> {
  const responses = schema.response as Record<string, { description: string }>
  const missing = `The ${header} header (requireHeader) is missing or empty (FST_SPOTIFY_MISSING_HEADER)`
  const own = responses[403]?.description
  return { ...schema, response: { ...responses, 403: error(own === undefined ? missing : `${missing}; or: ${own}`) } }
}

/** The schema of one of the plugin's routes, with `requireHeader`'s 403, the app's tags and `hide`. */
export function routeSchema (name: RouteName, options: ResolvedOptions): FastifySchema {
  const { tags, hide } = options.routeSchema
  const header = options.requireHeader
  const schema = header !== undefined && GUARDED.has(name) ? withRequiredHeader(SCHEMAS[name], header) : SCHEMAS[name]
  return { ...schema, ...(tags.length === 0 ? {} : { tags }), ...(hide ? { hide } : {}) }
}

/**
 * Makes schemas documentation only in `scope`: nothing is validated, and
 * responses are serialized as without a schema (no field is dropped, an
 * app's error handler may answer in its own shape).
 */
export function describeOnly (scope: FastifyInstance): void {
  scope.setValidatorCompiler(() => () => true)
  scope.setSerializerCompiler(() => (data) => JSON.stringify(data))
}
