/** The bench's Spotify app, the same for every server of bench/stores.ts. */
export const BENCH_APP = {
  clientId: 'bench-client-id',
  clientSecret: 'bench-client-secret',
  redirectUri: 'http://127.0.0.1:5543/callback',
  secret: 'bench-session-secret-of-at-least-32-characters'
} as const
