import t from 'tap'
import { UnsavedTokens, type UnsavedWrite } from '../plugin/session/unsaved.js'
import type { SpotifyToken } from '../plugin/index.js'

function write (refreshes: number): UnsavedWrite {
  const token = { refreshes } as SpotifyToken
  return { stale: token, next: { ...token, refreshes: refreshes + 1 } }
}

t.test('past its limit the oldest held write is given up, and said so', async (t) => {
  const dropped: string[] = []
  const unsaved = new UnsavedTokens(2, () => Promise.reject(new Error('down')), (id) => dropped.push(id))
  t.teardown(() => unsaved.close())
  unsaved.keep('a', write(1))
  unsaved.keep('b', write(1))
  unsaved.keep('a', write(2))
  t.same(dropped, [], 'a newer write of a session replaces its older one')
  unsaved.keep('c', write(1))
  t.same(dropped, ['b'], 'the least recently held goes first')
  t.equal(unsaved.size, 2)
})

t.test('drop forgets only the write it was given (a newer one of the session stays)', async (t) => {
  const unsaved = new UnsavedTokens(10, () => Promise.resolve(), () => {})
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
  }, () => {})
  t.teardown(() => unsaved.close())
  unsaved.keep('a', write(1))
  const tried = () => tries
  while (tried() < 2) await new Promise((resolve) => setTimeout(resolve, 50))
  failing = false
  while (unsaved.size > 0) await new Promise((resolve) => setTimeout(resolve, 50))
  t.pass('written by the background retry')
  unsaved.close()
  unsaved.keep('b', write(1))
  const before = tries
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.equal(tries, before, 'nothing runs after close')
})
