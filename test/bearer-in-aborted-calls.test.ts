import { inspect } from 'node:util'
import t from 'tap'
import { build } from './helpers/build.js'
import { fakeUpstream } from './helpers/fake-upstream.js'

// An attack on the logs: a call of a got client that is cancelled, aborted
// or timed out by its caller, while other sessions' calls are in flight,
// must leave no bearer (its own or another session's) in the error, however
// the error is printed: JSON, util.inspect, or pino's `err` serializer
// (what Fastify's default error handler logs).
t.test('a cancelled, aborted or timed-out call (got or fetch) carries no bearer of any session', async (t) => {
  const held: Array<() => void> = []
  const upstream = await fakeUpstream(t, (app) => {
    // Answers only at teardown: its calls stay in flight, their sockets open.
    app.get('/v1/held', async () => await new Promise((resolve) => { held.push(() => resolve({})) }))
  })
  t.teardown(() => { for (const release of held) release() })
  const ids: string[] = []
  const { login, app, logs } = await build(t, {
    plugin: { apiUrl: upstream, retry: { limit: 0 }, onLogin (_request, { sessionId }) { ids.push(sessionId) } }
  })
  await login()
  await login()
  const [mine, theirs] = ids.map((id) => app.spotify.session(id)) as [ReturnType<typeof app.spotify.session>, ReturnType<typeof app.spotify.session>]
  const secrets = [
    (await mine.getToken())?.accessToken as string,
    (await theirs.getToken())?.accessToken as string,
    (await app.spotify.app.getToken()).accessToken
  ]
  // The other session's calls, and the app's, in flight on the same client
  // (two distinct ones: identical reads in flight would be merged into one).
  const inFlight = [theirs.api.get('held?one'), theirs.api.get('held?two'), app.spotify.app.api.get('held')]
  for (const call of inFlight) call.catch(() => {})
  while (held.length < inFlight.length) await new Promise((resolve) => setImmediate(resolve))

  const failures: unknown[] = []
  const cancelled = mine.api.get('held')
  setTimeout(() => cancelled.cancel(), 50)
  failures.push(await cancelled.catch((err: unknown) => err))
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 50)
  failures.push(await mine.api.get('held', { signal: controller.signal }).catch((err: unknown) => err))
  failures.push(await mine.api.get('held', { signal: AbortSignal.timeout(50) }).catch((err: unknown) => err))
  failures.push(await app.spotify.app.api.get('held', { signal: AbortSignal.timeout(50) }).catch((err: unknown) => err))
  // The handles' fetch (what the SDK adapter calls through), ended the same ways.
  const fetchController = new AbortController()
  setTimeout(() => fetchController.abort(), 50)
  failures.push(await mine.fetch('held', { signal: fetchController.signal }).catch((err: unknown) => err))
  failures.push(await mine.fetch('held', { signal: AbortSignal.timeout(50) }).catch((err: unknown) => err))
  failures.push(await app.spotify.app.fetch('held', { signal: AbortSignal.timeout(50) }).catch((err: unknown) => err))

  t.same(failures.map((err) => (err as Error).name), ['CancelError', 'AbortError', 'TimeoutError', 'TimeoutError', 'AbortError', 'TimeoutError', 'TimeoutError'],
    'got\'s own errors, and fetch\'s, for the caller\'s own ends')
  for (const err of failures) {
    app.log.error({ err }, 'a failed call')
    let json: string
    try {
      json = JSON.stringify(err)
    } catch (cause) {
      json = ''
      t.fail(`${(err as Error).name} cannot be written as JSON: ${String(cause)}`)
    }
    const inspected = inspect(err, { depth: 12 })
    for (const secret of secrets) {
      t.notOk(json.includes(secret), `no bearer in ${(err as Error).name} as JSON`)
      t.notOk(inspected.includes(secret), `no bearer in ${(err as Error).name} as inspected`)
    }
  }
  const logged = logs.join('')
  t.ok(logged.includes('a failed call'), 'the errors were logged')
  for (const secret of secrets) t.notOk(logged.includes(secret), 'no bearer in the log')
})
