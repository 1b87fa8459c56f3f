// Compiled by `tsc --noEmit` (npm run typecheck), never run: what a user of
// pgStore sees. Each @ts-expect-error fails the build if it stops erring.
import Fastify from 'fastify'
import pg from 'pg'
import spotifyAuth, { pgStore, type PgStoreOptions, type StoreFactory } from '../../plugin/index.js'

const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', connectionTimeoutMillis: 2000 })
const options: PgStoreOptions = { pool, table: 'auth.spotify_sessions', createTable: false, ttl: 30 * 24 * 3600_000, queryTimeout: 1000 }
const factory: StoreFactory = pgStore(options)
await Fastify().register(spotifyAuth, { clientId: 'id', clientSecret: 's', redirectUri: 'http://127.0.0.1:5543/callback', secret: 'x'.repeat(32), store: factory })

// A single pg.Client fits too (without the pool's reconnects).
pgStore({ pool: new pg.Client() })
// @ts-expect-error the pool is required
pgStore({ table: 'sessions' })
// @ts-expect-error not a pg pool
pgStore({ pool: { get: async () => 'x' } })
// @ts-expect-error durations are numbers of ms
pgStore({ pool, ttl: '180d' })
