import { once } from 'node:events'
import { Cluster, Redis } from 'ioredis'
import type { Test } from 'tap'
import { sessionTag } from '../../plugin/store/redis/keys.js'
import { type FailoverScene, pidOf } from './failover-load.js'
import { eventually } from './eventually.js'
import { ask, startRedisCluster, startRedisSentinel, TOPOLOGY_PATIENCE } from './redis-topology.js'

/** 3 masters + 3 replicas; each app instance has its own Cluster client. */
export async function clusterScene (t: Test): Promise<FailoverScene> {
  const topology = await startRedisCluster(t)
  return {
    async client () {
      const client = new Cluster([...topology.nodes], { redisOptions: { maxRetriesPerRequest: 1 } })
      client.on('error', () => {})
      t.teardown(() => client.disconnect())
      await once(client, 'ready')
      return client
    },
    masterOf: (sessionId) => topology.masterOf(`{${sessionTag(sessionId)}}`),
    async kill (master) {
      // By its pid, not through the topology: its bookkeeping asks every
      // node, and the frozen replica would not answer.
      process.kill(pidOf(await ask(master, 'INFO', 'server') as string), 'SIGKILL')
    },
    async waitForFailover (master) {
      // The topology learns of the death (once the process is reaped), then
      // waits until every live node agrees on masters that are alive.
      await eventually('the kill to be known', async () => { await topology.kill(master); return true }, TOPOLOGY_PATIENCE)
      await topology.waitUntilHealthy()
    },
    restart: (master) => topology.restart(master)
  }
}

/** A master, a replica and 3 sentinels; clients follow a switch at once (failoverDetector). */
export async function sentinelScene (t: Test): Promise<FailoverScene> {
  const topology = await startRedisSentinel(t)
  return {
    async client () {
      const client = new Redis({ sentinels: [...topology.sentinels], name: topology.name, failoverDetector: true, maxRetriesPerRequest: 1 })
      client.on('error', () => {})
      t.teardown(() => client.disconnect())
      await once(client, 'ready')
      return client
    },
    masterOf: () => topology.master(),
    async kill (master) {
      const killed = await topology.killMaster()
      if (killed.port !== master.port) throw new Error('the master changed before the kill')
    },
    async waitForFailover (master) { await topology.waitForFailover(master) },
    restart: (master) => topology.restart(master)
  }
}
