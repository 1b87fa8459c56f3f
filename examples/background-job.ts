// Account linking and a background job. `onLogin` keeps each user's newest
// session id beside the user's Spotify account (a Map here, a table in your
// database), keyed by `accountId`, Spotify's immutable `account_id`; a job
// then reads every linked user's top artists through
// `fastify.spotify.session(id)`, which refreshes tokens as needed, with no
// browser around.
//
// A session id is a credential: keep it on the server, never send it to a
// browser, and never act on one that came from a request.
//
// SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET and SESSION_SECRET are required.
import Fastify from 'fastify'
import spotifyAuth, { errorCodes } from 'fastify-spotify-auth'

interface Link {
  sessionId: string
  topArtists: string[]
  syncedAt: string | null
}

const port = Number(process.env.PORT ?? 3000)
const syncEvery = Number(process.env.SYNC_EVERY_MS ?? 60 * 60 * 1000)
const links = new Map<string, Link>() // Spotify account → link: your table

/**
 * The key to link a Spotify account by: `account_id`, which Spotify advises
 * for linking accounts; the user id only when Spotify sent no `account_id`.
 */
function accountKey (accountId: string | undefined, userId: string): string {
  return accountId ?? userId
}

const app = Fastify({ logger: true })
await app.register(spotifyAuth, {
  clientId: process.env.SPOTIFY_CLIENT_ID!,
  clientSecret: process.env.SPOTIFY_CLIENT_SECRET!,
  redirectUri: `http://127.0.0.1:${port}/callback`,
  secret: process.env.SESSION_SECRET!,
  scopes: ['user-top-read'],
  accountsUrl: process.env.SPOTIFY_ACCOUNTS_URL, // Spotify's own unless set
  apiUrl: process.env.SPOTIFY_API_URL,
  // #region link
  async onLogin (_request, { sessionId, user }) {
    // With a login of your own, link user.accountId to the signed-in account
    // here (a throw fails the Spotify login and deletes the new session).
    links.set(accountKey(user.accountId, user.id), { sessionId, topArtists: [], syncedAt: null })
  }
  // #endregion link
})

// #region job
/** One round of the job: every linked user's top artists. Resolves how many it read. */
async function syncAll (): Promise<number> {
  let synced = 0
  for (const [account, link] of links) {
    const session = app.spotify.session(link.sessionId)
    try {
      const top = await session.api.get('me/top/artists', { searchParams: { limit: 5 } })
        .json<{ items: Array<{ name: string }> }>()
      link.topArtists = top.items.map((artist) => artist.name)
      link.syncedAt = new Date().toISOString()
      synced++
    } catch (err) {
      const code = (err as { code?: unknown }).code
      // The user logged out, or Spotify ended the session: forget the link.
      if (code === errorCodes.NO_SESSION || code === errorCodes.SESSION_REVOKED) links.delete(account)
      else app.log.warn({ err, account }, 'sync failed: trying again next round')
    }
  }
  return synced
}

// One round at a time; closing the app waits for the round in progress.
let round: Promise<void> | undefined
const timer = setInterval(() => {
  round ??= syncAll()
    .then((synced) => { app.log.info({ synced }, 'synced top artists') })
    .finally(() => { round = undefined })
}, syncEvery)
app.addHook('onClose', async () => {
  clearInterval(timer)
  await round
})
// #endregion job

app.get('/', async (request) => {
  const token = await request.spotify.getToken()
  if (token === null) return { connect: '/login' }
  const link = links.get(accountKey(token.accountId, token.userId))
  return {
    user: token.userId,
    account: token.accountId ?? null,
    topArtists: link?.topArtists ?? [],
    syncedAt: link?.syncedAt ?? null,
    // How many browsers are logged in: the count, never the ids.
    devices: (await app.spotify.sessionsOf(token.userId)).length
  }
})

// #region disconnect
// "Disconnect Spotify": unlink, and log the user out on every device.
app.post('/disconnect', { onRequest: app.spotify.authenticate }, async (request, reply) => {
  const token = await request.spotify.getToken()
  if (token !== null) {
    links.delete(accountKey(token.accountId, token.userId))
    await app.spotify.endSessionsOf(token.userId) // sessions are listed by user id
  }
  await request.spotify.logout() // clears this browser's cookie too
  return reply.redirect('/', 303)
})
// #endregion disconnect

await app.listen({ host: '127.0.0.1', port })
