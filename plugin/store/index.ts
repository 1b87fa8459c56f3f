/**
 * The store kit: `fastify-spotify-auth/store`. What every token store shares,
 * for writing one of your own: the contract (`TokenStore`), the sealed
 * record format (names, encryption, version binding, index members), the
 * lifetime of records and locks, bounded waits, and option checks that
 * throw the plugin's `FST_SPOTIFY_INVALID_OPTION`. Prove a store with the
 * contract suite, `fastify-spotify-auth/testing`. The guide is
 * docs/writing-a-store.md.
 *
 * @packageDocumentation
 */
export type { RateLimitWindow, SpotifyToken, StoreContext, StoreFactory, TokenStore } from './types.js'
export { sealedRecords, type SealedRecords } from './kit/records.js'
export { lapsesAt, leaseMs, leaseToken, refreshTokenLapsesAt } from './kit/lifetime.js'
export { within } from './kit/within.js'
export { optionChecks, optionRule, optionRules, type OptionChecks, type OptionRule } from './kit/options.js'
