/** The `control` object tests use to observe the emulator and make it misbehave. */
import { approve, isUser, validateAuthorize } from './authorize.js'
import { users } from './fixtures.js'
import { parseScopes, unknownScope } from './scopes.js'
import { MAX_DEVELOPMENT_USERS } from './development-mode.js'
import { addClient, arm, hold, issueAppToken, issueTokens, refreshExpiry, type EmulatorState } from './state.js'
import type { EmulatorControl } from './types.js'

function checkStatus (status: number, min: number, name: string): number {
  if (!Number.isInteger(status) || status < min || status > 599) {
    throw new RangeError(`emulator: ${name} status must be an integer from ${min} to 599`)
  }
  return status
}

function checkSeconds (seconds: number, name: string): number {
  if (!Number.isInteger(seconds) || seconds < 0) throw new RangeError(`emulator: ${name} must be a non-negative integer of seconds`)
  return seconds
}

export function createControl (state: EmulatorState): EmulatorControl {
  return {
    get counters () {
      return state.counters
    },
    resetCounters () {
      state.counters.authorization_code = 0
      state.counters.refresh_token = 0
      state.counters.client_credentials = 0
      state.counters.api = 0
      state.apiCalls.clear()
    },
    get apiCallsByEndpoint () {
      return Object.fromEntries(state.apiCalls)
    },
    setQuota (calls, windowSeconds) {
      if (!Number.isInteger(calls) || calls < 1) throw new RangeError('emulator: setQuota calls must be a positive integer')
      if (checkSeconds(windowSeconds, 'windowSeconds') === 0) throw new RangeError('emulator: setQuota windowSeconds must be positive')
      state.quota.limit = calls
      state.quota.windowMs = windowSeconds * 1000
    },
    resetQuota () {
      state.quota.calls.clear()
    },
    get apiRequests () {
      return state.apiRequests
    },
    clearApiRequests () {
      state.apiRequests.length = 0
    },
    setRotateRefreshTokens (on) {
      state.rotateRefreshTokens = on
    },
    setOmitRefreshToken (on) {
      state.omitRefreshToken = on
    },
    setOmitRefreshScope (on) {
      state.omitRefreshScope = on
    },
    setRefreshTokenTtl (seconds) {
      state.refreshTokenTtl = checkSeconds(seconds, 'refreshTokenTtl')
    },
    setOwnerPremium (on) {
      state.ownerPremium = on
    },
    allowUser (userId) {
      if (!isUser(userId)) throw new Error(`emulator: unknown user ${userId}`)
      if (state.mode === 'development' && !state.allowList.has(userId) && state.allowList.size >= MAX_DEVELOPMENT_USERS) {
        throw new RangeError(`emulator: a Development Mode app allows at most ${MAX_DEVELOPMENT_USERS} users`)
      }
      state.allowList.add(userId)
    },
    disallowUser (userId) {
      state.allowList.delete(userId)
    },
    setAccessTokenTtl (seconds) {
      state.accessTokenTtl = checkSeconds(seconds, 'accessTokenTtl')
    },
    revokeRefreshToken (refreshToken) {
      if (state.refreshTokens.delete(refreshToken)) state.revokedRefreshTokens.add(refreshToken)
    },
    revokeAll () {
      for (const token of state.refreshTokens.keys()) state.revokedRefreshTokens.add(token)
      state.refreshTokens.clear()
      state.accessTokens.clear()
    },
    expireAccessTokens () {
      const now = state.now()
      for (const token of state.accessTokens.values()) token.expiresAt = Math.min(token.expiresAt, now)
    },
    failTokenCalls (count, status = 503) {
      arm(state.failToken, count, checkStatus(status, 400, 'failTokenCalls'), 'failTokenCalls')
    },
    hangTokenCalls (count) {
      arm(state.hangToken, count, 0, 'hangTokenCalls')
    },
    holdTokenCalls () {
      let arrive!: () => void
      const arrived = new Promise<void>((resolve) => { arrive = resolve })
      const { gate, release } = hold(state)
      state.tokenHolds.push({ arrive, gate })
      return { arrived, release }
    },
    rateLimitApiCalls (count, retryAfterSeconds) {
      arm(state.rateLimitApi, count, checkSeconds(retryAfterSeconds, 'retryAfterSeconds'), 'rateLimitApiCalls')
    },
    failApiCalls (count, status) {
      arm(state.failApi, count, checkStatus(status, 400, 'failApiCalls'), 'failApiCalls')
    },
    hangApiCalls (count) {
      arm(state.hangApi, count, 0, 'hangApiCalls')
    },
    unauthorizeApiCalls (count) {
      arm(state.unauthorizeApi, count, 0, 'unauthorizeApiCalls')
    },
    setApiResponseHeaders (headers) {
      state.apiResponseHeaders = { ...headers }
    },
    addClient (client) {
      addClient(state, client)
    },
    issueTokens (userId, scopes, clientId = state.clients.keys().next().value!) {
      if (!isUser(userId)) throw new Error(`emulator: unknown user ${userId}`)
      if (!state.clients.has(clientId)) throw new Error(`emulator: unknown client ${clientId}`)
      const granted = parseScopes(scopes.join(' '))
      const unknown = unknownScope(granted)
      if (unknown !== undefined) throw new Error(`emulator: unknown scope ${unknown}`)
      return issueTokens(state, { clientId, userId, scopes: granted, publicClient: false, refreshExpiresAt: refreshExpiry(state) })
    },
    issueAppToken (clientId = state.clients.keys().next().value!) {
      if (!state.clients.has(clientId)) throw new Error(`emulator: unknown client ${clientId}`)
      return issueAppToken(state, clientId)
    },
    authorize (params, userId = users[0]!.id) {
      if (!isUser(userId)) throw new Error(`emulator: unknown user ${userId}`)
      const request = validateAuthorize(state, params instanceof URLSearchParams ? params : new URLSearchParams(params))
      return approve(state, request, userId)
    }
  }
}
