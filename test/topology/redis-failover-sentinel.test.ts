import t from 'tap'
import { failoverUnderLoad } from '../helpers/failover-load.js'
import { sentinelScene } from '../helpers/failover-scenes.js'
import { topologySkipped } from '../helpers/redis-topology.js'

// One scenario per file: each stays within tap's per-file timeout.
t.test('Redis Sentinel: a master SIGKILLed under load with rotating refresh tokens, durability on: no session is lost', async (t) => {
  if (await topologySkipped(t)) return
  const figures = await failoverUnderLoad(t, await sentinelScene(t), { sessions: 8, durability: { replicas: 1, timeout: 200 } })
  t.comment(`Sentinel, durability on: ${JSON.stringify(figures)}`)
  t.ok(figures.atRisk > 0, 'sessions lived on the killed master')
  t.equal(figures.lost, 0, 'no session lost')
})
