import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'

/** Jiffies of the whole machine, from /proc/stat (Linux); busy includes irq, softirq and steal. */
export interface SystemSample { busy: number, total: number }

export function systemSample (): SystemSample | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number)
    const busy = user + nice + system + irq + softirq + steal
    return { busy, total: busy + idle + iowait }
  } catch {
    return undefined
  }
}

const cores = cpus().length

/** Machine CPU between two samples, in % of one core (so up to 100 × cores). */
export function machineCpu (before: SystemSample | undefined, after: SystemSample | undefined): number {
  if (before === undefined || after === undefined || after.total === before.total) return Number.NaN
  return (after.busy - before.busy) / (after.total - before.total) * 100 * cores
}

/**
 * Waits, at most `maxMs`, until the machine is quiet (other processes use
 * less than `thresholdPercent` of one core over 500 ms). Resolves how long it waited, ms,
 * or -1 when it gave up.
 */
export async function waitForQuiet (maxMs: number, thresholdPercent = 35): Promise<number> {
  const start = Date.now()
  for (;;) {
    const before = systemSample()
    if (before === undefined) return 0
    await sleep(500)
    const busy = machineCpu(before, systemSample())
    if (!(busy >= thresholdPercent)) return Date.now() - start - 500
    if (Date.now() - start >= maxMs) return -1
  }
}
