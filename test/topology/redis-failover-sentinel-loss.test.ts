import t from 'tap'
import { failoverUnderLoad } from '../helpers/failover-load.js'
import { sentinelScene } from '../helpers/failover-scenes.js'
import { topologySkipped } from '../helpers/redis-topology.js'

// What durability is for: the same failover without it. Measured, not
// asserted: the losses depend on which refreshes the replica missed.
t.test('Redis Sentinel: a master SIGKILLed under load with rotating refresh tokens, durability off: what is lost', async (t) => {
  if (await topologySkipped(t)) return
  const figures = await failoverUnderLoad(t, await sentinelScene(t), { sessions: 8 })
  t.comment(`Sentinel, durability off: ${JSON.stringify(figures)}`)
  t.ok(figures.refreshesWhileFrozen > 0, 'refreshes were written to the master alone')
  t.ok(figures.lost <= figures.atRisk, 'only sessions of the killed master can be lost')
})
