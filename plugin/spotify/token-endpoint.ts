/**
 * The token endpoint's client moved to `accounts/token-endpoint.ts`; this
 * re-export keeps the refresh engine's import working until it follows.
 * @deprecated
 */
export * from '../accounts/token-endpoint.js'
