import t from 'tap'
import { scopeList } from '../plugin/accounts/token-endpoint.js'

t.test('granted scopes are shared: one frozen list per distinct scope string', async (t) => {
  const a = scopeList('user-read-private playlist-read-private')
  const b = scopeList('user-read-private playlist-read-private')
  t.equal(a, b, 'the same array for the same string')
  t.same(a, ['user-read-private', 'playlist-read-private'])
  t.ok(Object.isFrozen(a))
  t.same(scopeList(''), [], 'no scope at all')
})

t.test('the shared lists are bounded: the least recently used make room, lists stay right', async (t) => {
  const first = scopeList('scope-first')
  for (let i = 0; i < 300; i++) scopeList(`scope-${i}`)
  t.same(scopeList('scope-first'), ['scope-first'], 'still right')
  t.not(scopeList('scope-first'), first, 'no longer shared: it made room')
  const late = scopeList('late-scope other-scope')
  t.same(late, ['late-scope', 'other-scope'])
  t.equal(scopeList('late-scope other-scope'), late, 'a new string is remembered, whatever came before')
})
