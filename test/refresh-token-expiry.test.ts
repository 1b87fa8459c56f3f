import t from 'tap'
import { build } from './helpers/build.js'

// Spotify's refresh tokens live six months from the user's authorization,
// and refreshing does not extend them.
t.test('the token knows when the user authorized, and when its refresh token stops working', async (t) => {
  let clock = Date.now()
  const { app, login, emulator } = await build(t, { emulator: { now: () => clock } })
  const before = Math.floor(Date.now() / 1000)
  const { jar } = await login()
  const id = (jar.cookies.get('spotify_session') as string).split('.')[0] as string
  const session = app.spotify.session(id)
  const first = await session.getToken()
  t.ok(first !== null && first.authorizedAt >= before && first.authorizedAt <= Math.ceil(Date.now() / 1000), 'authorizedAt: the login')
  const sixMonths = new Date((first?.authorizedAt as number) * 1000)
  sixMonths.setUTCMonth(sixMonths.getUTCMonth() + 6)
  t.equal(first?.refreshTokenExpiresAt, sixMonths.getTime() / 1000, 'six calendar months later')

  const refreshed = await session.refresh()
  t.equal(refreshed?.refreshes, 1)
  t.equal(refreshed?.authorizedAt, first?.authorizedAt, 'a refresh keeps the time of authorization')
  t.equal(refreshed?.refreshTokenExpiresAt, first?.refreshTokenExpiresAt, 'and so the horizon')

  // Six months and a day later (on Spotify's clock): the refresh token is refused.
  clock += 184 * 24 * 3600_000
  await t.rejects(session.refresh(), { code: 'FST_SPOTIFY_SESSION_REVOKED' }, 'invalid_grant: the session ends')
  t.equal(await app.spotify.store.get(id), undefined)
  t.equal(emulator.control.counters.refresh_token, 2, 'the refused refresh did reach Spotify')
})
