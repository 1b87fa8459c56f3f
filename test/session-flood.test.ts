import t from 'tap'
import { memoryStore } from '../plugin/index.js'
import { build, CookieJar } from './helpers/build.js'

// An attack: one account logs in over and over to push everyone else out of
// a bounded memory store. Eviction goes by use, so a user who keeps using
// their session keeps it.
t.test('a flood of logins does not log out a user who is using their session', async (t) => {
  // One account here, and no per-user limit: the store's own bound is what is attacked.
  const { login, request } = await build(t, { plugin: { store: memoryStore({ maxSessions: 20 }), maxSessionsPerUser: false } })
  const { jar: victim } = await login()
  for (let i = 0; i < 100; i++) {
    await login(new CookieJar())
    if (i % 10 === 9) t.equal((await request(victim, { url: '/spotify/me' })).statusCode, 200, `still logged in after ${i + 1} logins`)
  }
  const { jar: idle } = await login()
  for (let i = 0; i < 25; i++) await login(new CookieJar())
  t.equal((await request(idle, { url: '/spotify/me' })).statusCode, 401, 'a session nobody uses is the one that goes')
})
