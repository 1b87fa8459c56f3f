/**
 * The gate Spotify puts before every Web API call of a Development Mode
 * app: the app's owner must have Premium, and the user must be one of the
 * (at most five) registered under "User Management" in the dashboard.
 */
import type { FastifyReply } from 'fastify'
import { apiError } from './http.js'
import type { EmulatorState, Grant } from './state.js'

/** The most users a Development Mode app may register. */
export const MAX_DEVELOPMENT_USERS = 5

/** The message of a Development Mode app's 403 on every `/v1` call once its owner's Premium has lapsed. */
export const PREMIUM_REQUIRED = 'Active premium subscription required for the owner of the app'
/** The message of a Development Mode app's 403 for a user who is not on its allow-list. */
export const USER_NOT_REGISTERED = 'User not registered in the Developer Dashboard'

/** How to refuse a call with this grant, or `undefined` when it may pass. */
export function developmentModeRefusal (state: EmulatorState, grant: Grant): ((reply: FastifyReply) => FastifyReply) | undefined {
  if (state.mode === 'extended') return undefined
  if (!state.ownerPremium) return (reply) => apiError(reply, 403, PREMIUM_REQUIRED)
  if (grant.userId !== null && !state.allowList.has(grant.userId)) {
    // Spotify answers this one in plain text, not in its JSON error shape.
    return (reply) => reply.code(403).type('text/plain; charset=utf-8').send(USER_NOT_REGISTERED)
  }
  return undefined
}
