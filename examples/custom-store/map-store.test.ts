// The store's proof: the contract suite, under node:test.
// Run: node --import tsx --test map-store.test.ts
import assert from 'node:assert/strict'
import test from 'node:test'
import { testTokenStore } from 'fastify-spotify-auth/testing'
import { MapDatabase, mapStore } from './map-store.js'

const secrets = ['a-session-secret-of-at-least-32-characters']
const clientId = 'my-spotify-client-id'

// #region proof
test('mapStore passes the TokenStore contract', (t) => {
  const database = new MapDatabase()
  const store = mapStore({ database })
  return testTokenStore(t, () => store({ secrets, clientId }), {
    lock: true,
    lockTtl: 100,
    // A lock lives its ttl plus two of the store's timeouts: the tests that
    // wait for one to expire get a store with a short timeout, and only they.
    lockExpiry: () => mapStore({ database, timeout: 100 })({ secrets, clientId }),
    users: true,
    // Stores over the same database, built with other secrets.
    rotation: (secrets) => store({ secrets, clientId })
  })
})
// #endregion proof

test('mapStore refuses a bad option with the plugin\'s code', () => {
  assert.throws(() => mapStore({ database: new MapDatabase(), ttl: 0 }),
    { code: 'FST_SPOTIFY_INVALID_OPTION', message: /mapStore options\.ttl must be a positive integer of ms/ })
})
