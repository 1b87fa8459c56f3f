import t from 'tap'
import { UnsavedTokens, type UnsavedWrite } from '../plugin/session/refresh/unsaved.js'
import type { SpotifyToken } from '../plugin/index.js'
import { eventually } from './helpers/eventually.js'

function write (refreshes: number): UnsavedWrite {
  const token = { refreshes } as SpotifyToken
  return { stale: token, next: { ...token, refreshes: refreshes + 1 } }
}

t.test('past its limit the oldest held write is given up, and said so', async (t) => {
  const logged: string[] = []
  const unsaved = new UnsavedTokens(2, () => Promise.reject(new Error('down')), { error: (message: string) => { logged.push(message) } } as never)
  t.teardown(() => unsaved.close())
  unsaved.keep('a', write(1))
  unsaved.keep('b', write(1))
  unsaved.keep('a', write(2))
  t.same(logged, [], 'a newer write of a session replaces its older one')
  unsaved.keep('c', write(1))
  t.equal(unsaved.get('b'), undefined, 'the least recently held goes first')
  t.ok(unsaved.get('a') && unsaved.get('c'))
  t.match(logged, [/given up \(too many held\)/], 'and the log says so')
  t.equal(unsaved.size, 2)
})

t.test('drop forgets only the write it was given (a newer one of the session stays)', async (t) => {
  const unsaved = new UnsavedTokens(10, () => Promise.resolve(), { error () {} } as never)
  t.teardown(() => unsaved.close())
  const older = write(1)
  const newer = write(2)
  unsaved.keep('a', older)
  unsaved.keep('a', newer)
  unsaved.drop('a', older)
  t.equal(unsaved.get('a'), newer)
  unsaved.drop('a', newer)
  t.equal(unsaved.get('a'), undefined)
})

t.test('the background retry backs off while writes fail and stops once none is held', async (t) => {
  let tries = 0
  let failing = true
  const unsaved = new UnsavedTokens(10, async (id) => {
    tries++
    if (failing) throw new Error('down')
    unsaved.drop(id, unsaved.get(id) as UnsavedWrite)
  }, { error () {} } as never)
  t.teardown(() => unsaved.close())
  unsaved.keep('a', write(1))
  await eventually('a second background try', () => tries >= 2, { every: 50 })
  failing = false
  t.ok(await eventually('the background retry to write', () => unsaved.size === 0, { every: 50 }), 'written by the background retry')
  unsaved.close()
  unsaved.keep('b', write(1))
  const before = tries
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.equal(tries, before, 'nothing runs after close')
})
