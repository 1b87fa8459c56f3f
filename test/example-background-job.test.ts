import t from 'tap'
import { appEnv, emulatorFor, Example, Visitor } from './helpers/examples.js'
import { freePort } from './helpers/ports.js'

t.test('the background job: linked at login, synced with fastify.spotify.session(id), disconnected everywhere', async (t) => {
  const port = await freePort()
  const emulator = await emulatorFor(t, port)
  const app = await Example.start(t, 'background-job.ts', { ...appEnv(port, emulator), SYNC_EVERY_MS: '50' })
  const visitor = new Visitor(app.origin)
  t.same(await (await visitor.fetch('/')).json(), { connect: '/login' })

  await visitor.logIn(t)
  const synced = await app.log((entry) => entry.msg === 'synced top artists' && entry.synced === 1)
  t.ok(synced, 'a round of the job reads the linked user')
  const linked = await (await visitor.fetch('/')).json() as { user: string, account: string, topArtists: string[], syncedAt: string, devices: number }
  t.equal(linked.user, 'alice')
  t.match(linked.account, /^[0-9A-Za-z]{22}$/, 'linked by account_id')
  t.equal(linked.topArtists.length, 5, 'their top artists, read by the job')
  t.type(linked.syncedAt, 'string')
  t.equal(linked.devices, 1)

  // A second browser of the same user, then "Disconnect" in the first.
  const other = new Visitor(app.origin)
  await other.logIn(t)
  t.equal((await (await other.fetch('/')).json() as { devices: number }).devices, 2, 'two devices')
  const disconnect = await visitor.fetch('/disconnect', { method: 'POST' })
  t.equal(disconnect.status, 303)
  t.equal(visitor.cookies.get('spotify_session'), undefined, 'this browser\'s cookie is cleared')
  t.same(await (await other.fetch('/')).json(), { connect: '/login' }, 'the other device is logged out too')
  const from = app.entries().length
  t.ok(await app.log((entry) => entry.msg === 'synced top artists' && entry.synced === 0, from), 'the job reads nobody now')
})
