import type { ServerProcess } from './child.js'
import { load, type LoadResult } from './load.js'
import type { CpuSample } from './protocol.js'
import { median } from './stats.js'
import { machineCpu, systemSample, waitForQuiet } from './system.js'

export interface Target {
  key: string
  name: string
  url: string
}

export interface LoadSettings {
  connections: number
  /** Seconds per target per round. */
  duration: number
  rounds: number
  /** Seconds of discarded load per target before the first round. */
  warmup: number
  /** Most seconds to wait before each run for other processes to go quiet (at most 60 s in all). */
  quietWait: number
}

export interface Run extends LoadResult {
  round: number
  /** CPU of the server process during the run, % of one core. */
  serverCpu: number
  /** CPU of the whole machine minus server and load generator, % of one core (other processes, kernel threads). */
  otherCpu: number
  /** ms waited for a quiet machine before the run; -1 when it never got quiet. */
  quietWaited: number
}

export interface TargetSummary {
  key: string
  name: string
  url: string
  /** Medians over the rounds. */
  rps: number
  p50: number
  p99: number
  serverCpu: number
  clientCpu: number
  otherCpu: number
  rpsMin: number
  rpsMax: number
  runs: Run[]
}

function cpuShare (before: CpuSample, after: CpuSample): number {
  return (after.user + after.system - before.user - before.system) / (after.at - before.at) * 100
}

/** What all runs together may spend waiting for a quiet machine, ms. */
const QUIET_BUDGET = 60_000
let quietSpent = 0

async function runOnce (server: ServerProcess, target: Target, headers: Record<string, string>, connections: number, duration: number, quietWait: number): Promise<Omit<Run, 'round'>> {
  const allowed = Math.min(quietWait * 1000, QUIET_BUDGET - quietSpent)
  const quietWaited = allowed > 0 ? await waitForQuiet(allowed) : 0
  quietSpent += quietWaited === -1 ? allowed : quietWaited
  const system = systemSample()
  const before = await server.call<CpuSample>({ command: 'cpu' })
  const result = await load({ url: target.url, headers, connections, duration, distinct: true })
  const after = await server.call<CpuSample>({ command: 'cpu' })
  const machine = machineCpu(system, systemSample())
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`bench: ${target.key} answered ${result.non2xx} non-2xx and ${result.errors} errors: check the target`)
  }
  const serverCpu = cpuShare(before, after)
  return { ...result, serverCpu, otherCpu: Math.max(0, machine - serverCpu - result.clientCpu), quietWaited }
}

/**
 * Warms every target up, then runs `rounds` rounds; each round runs every
 * target once, starting one target later than the round before, so that
 * drift and position in the round hit all targets alike.
 */
export async function measureTargets (
  server: ServerProcess,
  targets: readonly Target[],
  headers: Record<string, string>,
  settings: LoadSettings,
  log: (line: string) => void
): Promise<TargetSummary[]> {
  const runs = new Map<string, Run[]>(targets.map((t) => [t.key, []]))
  if (settings.warmup > 0) {
    for (const target of targets) {
      log(`warm-up ${target.key} ${target.name} (${settings.warmup} s)`)
      await runOnce(server, target, headers, settings.connections, settings.warmup, 0)
    }
  }
  for (let round = 0; round < settings.rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length] as Target)
    for (const target of order) {
      const result = await runOnce(server, target, headers, settings.connections, settings.duration, settings.quietWait)
      runs.get(target.key)?.push({ ...result, round })
      log(`round ${round + 1}/${settings.rounds} ${target.key.padEnd(3)} ${Math.round(result.rps).toString().padStart(6)} req/s  ` +
        `p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms  CPU: server ${Math.round(result.serverCpu)}%, ` +
        `client ${Math.round(result.clientCpu)}%, other ${Math.round(result.otherCpu)}%` +
        (result.quietWaited === -1 ? ' (machine never quiet)' : result.quietWaited > 0 ? ` (waited ${result.quietWaited} ms for quiet)` : ''))
    }
  }
  return targets.map((target) => {
    const list = runs.get(target.key) as Run[]
    const rps = list.map((r) => r.rps)
    return {
      ...target,
      rps: median(rps),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
      serverCpu: median(list.map((r) => r.serverCpu)),
      clientCpu: median(list.map((r) => r.clientCpu)),
      otherCpu: median(list.map((r) => r.otherCpu)),
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      runs: list
    }
  })
}

export interface PairedResult {
  /** Each pair's `a` over `b`, in req/s and in server CPU per request (b over a: > 1 when `a` costs less). */
  rps: number[]
  cpu: number[]
}

/**
 * `a` against `b` in `pairs` pairs of short runs, back to back, the order
 * alternating (a b, b a, a b…): each pair's ratio is taken on one state of
 * the machine, whose slow spells here last seconds and halve a run's rate,
 * and the median of the ratios is the comparison.
 */
export async function measurePairs (
  server: ServerProcess,
  a: Target,
  b: Target,
  headers: Record<string, string>,
  settings: { connections: number, duration: number, pairs: number },
  log: (line: string) => void
): Promise<PairedResult> {
  const result: PairedResult = { rps: [], cpu: [] }
  for (let pair = 0; pair < settings.pairs; pair++) {
    const order = pair % 2 === 0 ? [a, b] : [b, a]
    const runs = new Map<string, Omit<Run, 'round'>>()
    for (const target of order) runs.set(target.key, await runOnce(server, target, headers, settings.connections, settings.duration, 0))
    const ra = runs.get(a.key) as Omit<Run, 'round'>
    const rb = runs.get(b.key) as Omit<Run, 'round'>
    result.rps.push(ra.rps / rb.rps)
    result.cpu.push((rb.serverCpu / rb.rps) / (ra.serverCpu / ra.rps))
    log(`pair ${pair + 1}/${settings.pairs} ${a.key}/${b.key}: ${Math.round(ra.rps)}/${Math.round(rb.rps)} req/s = ${(ra.rps / rb.rps).toFixed(3)}`)
  }
  return result
}
