import t from 'tap'
import { keySlot } from '../plugin/store/key-slot.js'

// Slots as Redis Cluster's CLUSTER KEYSLOT answers them.
t.test('keySlot: the slot Redis Cluster computes, hash tags included', async (t) => {
  t.equal(keySlot('123456789'), 12739, 'the CRC16 check value')
  t.equal(keySlot('foo'), 12182)
  t.equal(keySlot('bar'), 5061)
  t.equal(keySlot('{user1000}.following'), keySlot('{user1000}.followers'), 'one tag, one slot')
  t.equal(keySlot('{user1000}.following'), keySlot('user1000'))
  t.equal(keySlot('foo{}{bar}'), 8363, 'an empty tag hashes the whole key')
  t.equal(keySlot('foo{{bar}}zap'), 4015, 'the tag ends at the first } after the first {')
  t.equal(keySlot('{bar'), 4015)
  t.equal(keySlot('{open'), 7674, 'an unclosed tag hashes the whole key')
})
