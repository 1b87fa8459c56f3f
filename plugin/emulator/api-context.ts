/**
 * What every `/v1` route module shares: the state, how to render (the
 * view), the grant behind a request, and Spotify's parameter checks.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { apiError, rawQuery } from './http.js'
import type { View } from './objects.js'
import type { EmulatorState, Grant } from './state.js'

export interface ApiContext {
  readonly state: EmulatorState
  /** Links on the emulator's URL, fields as the quota mode has them. */
  view (): View
  /** The grant the request's bearer token stands for (set by the bearer check). */
  grantOf (request: FastifyRequest): Grant
}

export function createApiContext (state: EmulatorState): ApiContext & { grants: WeakMap<FastifyRequest, Grant> } {
  // A WeakMap rather than a request decoration, so the emulator adds
  // nothing to Fastify's types.
  const grants = new WeakMap<FastifyRequest, Grant>()
  const extended = state.mode === 'extended'
  return {
    state,
    grants,
    view: () => ({ base: state.baseUrl, extended }),
    grantOf: (request) => grants.get(request)!
  }
}

/** The request's query parameters, parsed from the raw query string. */
export function query (request: FastifyRequest): URLSearchParams {
  return new URLSearchParams(rawQuery(request.url))
}

/**
 * Answers 403 for an endpoint Spotify removed for Development Mode apps;
 * `true` when it did, so a route returns the reply.
 */
export function removedInDevelopment (context: ApiContext, reply: FastifyReply): boolean {
  if (context.state.mode === 'extended') return false
  apiError(reply, 403, 'Forbidden')
  return true
}

export function hasScope (context: ApiContext, request: FastifyRequest, scope: string): boolean {
  return context.grantOf(request).scopes.includes(scope)
}

const NUMBER = /^\d{1,9}$/

/** `limit`/`offset` from the query, checked as strictly as Spotify does. */
export function pageParams (params: URLSearchParams, defaultLimit: number, maxLimit: number, maxOffset = Infinity): { limit: number, offset: number } | string {
  const rawLimit = params.get('limit')
  const rawOffset = params.get('offset')
  const limit = rawLimit === null ? defaultLimit : NUMBER.test(rawLimit) ? Number(rawLimit) : -1
  if (limit < 1 || limit > maxLimit) return 'Invalid limit'
  const offset = rawOffset === null ? 0 : NUMBER.test(rawOffset) ? Number(rawOffset) : -1
  if (offset < 0 || offset > maxOffset) return 'Invalid offset'
  return { limit, offset }
}

/** The JSON body of a request, or `undefined` when it is missing or not a JSON object. */
export function jsonBody (request: FastifyRequest): Record<string, unknown> | undefined {
  const raw = typeof request.body === 'string' ? request.body : ''
  if (raw === '') return {}
  try {
    const data: unknown = JSON.parse(raw)
    return typeof data === 'object' && data !== null && !Array.isArray(data) ? data as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}
