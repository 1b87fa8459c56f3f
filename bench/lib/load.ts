import { Agent, request as httpRequest } from 'node:http'
import { performance } from 'node:perf_hooks'
import autocannon from 'autocannon'
import { percentile, Samples } from './stats.js'

export interface LoadOptions {
  url: string
  headers: Record<string, string>
  connections: number
  /** Seconds. */
  duration: number
  /**
   * Makes every request distinct (`n=<count>` added to the query), so that
   * the plugin's merging of identical reads in flight and its response
   * cache answer none of them: what is measured is a call that goes out.
   */
  distinct?: boolean
}

export interface LoadResult {
  /** 2xx responses per second of wall time. */
  rps: number
  requests: number
  /** Exact percentiles of every 2xx response's latency, ms (autocannon's own are whole ms). */
  p50: number
  p90: number
  p99: number
  max: number
  non2xx: number
  errors: number
  timeouts: number
  /** Seconds the run really took. */
  elapsed: number
  /** CPU of this (load generator) process during the run, % of one core. */
  clientCpu: number
}

/** An autocannon `setupRequest` giving each request its own query. */
function distinctPaths (url: string): (request: { path?: string }) => { path?: string } {
  const { pathname, search } = new URL(url)
  const base = pathname + (search === '' ? '?' : `${search}&`)
  let count = 0
  return (request) => ({ ...request, path: `${base}n=${count++}` })
}

/** One autocannon run (keep-alive, no pipelining), latencies recorded per response. */
export function load (options: LoadOptions): Promise<LoadResult> {
  const samples = new Samples()
  let non2xx = 0
  const cpuStart = process.cpuUsage()
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: options.url,
      headers: options.headers,
      connections: options.connections,
      duration: options.duration,
      pipelining: 1,
      timeout: 10,
      ...(options.distinct === true ? { requests: [{ setupRequest: distinctPaths(options.url) }] } : {})
    }, (err, result) => {
      if (err !== null && err !== undefined) {
        reject(err)
        return
      }
      const elapsed = (performance.now() - started) / 1000
      const cpu = process.cpuUsage(cpuStart)
      const sorted = samples.sorted()
      resolve({
        rps: sorted.length / elapsed,
        requests: sorted.length,
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: percentile(sorted, 100),
        non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        elapsed,
        clientCpu: (cpu.user + cpu.system) / 1000 / (elapsed * 1000) * 100
      })
    })
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) samples.push(responseTime)
      else non2xx++
    })
  })
}

export interface StormResult {
  /** Latency of each request, ms, sorted. */
  latencies: Float64Array
  p50: number
  p99: number
  max: number
  /** Status code → count. */
  statuses: Record<string, number>
  /** From the first request sent to the last response. */
  wall: number
}

function get (agent: Agent, url: URL, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent, headers, timeout: 30_000 }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode as number))
      res.once('error', reject)
    })
    req.once('timeout', () => req.destroy(new Error('bench: storm request timed out')))
    req.once('error', reject)
    req.end()
  })
}

/**
 * `count` requests sent at once, each on its own already-open keep-alive
 * connection (opened by a first wave to `warmUrl`), so that the measure is the
 * server's, not the kernel's accept queue.
 */
export function storm (warmUrl: string, url: string, headers: Record<string, string>, count: number): Promise<StormResult> {
  return stormOver([{ warmUrl, url }], headers, count)
}

/** The same storm spread round-robin over several servers (instances of one app). */
export async function stormOver (targets: ReadonlyArray<{ warmUrl: string, url: string }>, headers: Record<string, string>, count: number): Promise<StormResult> {
  const share = (i: number): number => Math.floor(count / targets.length) + (i < count % targets.length ? 1 : 0)
  const agents = targets.map((_, i) => new Agent({ keepAlive: true, maxSockets: share(i), maxFreeSockets: share(i), scheduling: 'fifo' }))
  try {
    await Promise.all(targets.map((target, i) => Promise.all(Array.from({ length: share(i) }, () => get(agents[i] as Agent, new URL(target.warmUrl), {})))))
    const open = agents.reduce((sum, agent) => sum + Object.values(agent.freeSockets).reduce((n, sockets) => n + (sockets?.length ?? 0), 0), 0)
    if (open < count) throw new Error(`bench: only ${open} of ${count} storm connections stayed open`)

    const urls = targets.map((target) => new URL(target.url))
    const latencies = new Float64Array(count)
    const statuses: Record<string, number> = {}
    const first = performance.now()
    await Promise.all(Array.from({ length: count }, async (_, i) => {
      const sent = performance.now()
      const status = await get(agents[i % targets.length] as Agent, urls[i % targets.length] as URL, headers)
      latencies[i] = performance.now() - sent
      statuses[status] = (statuses[status] ?? 0) + 1
    }))
    const wall = performance.now() - first
    latencies.sort()
    return { latencies, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100), statuses, wall }
  } finally {
    for (const agent of agents) agent.destroy()
  }
}
