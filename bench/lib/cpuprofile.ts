/** Aggregates a V8 .cpuprofile (node --cpu-prof): self and inclusive time per function, file and package. */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
export interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

export interface Entry {
  name: string
  samples: number
  /** % of the busy (non-idle) samples in the window. */
  percent: number
}

export interface ProfileSummary {
  /** Samples in the window, idle included. */
  samples: number
  idlePercent: number
  /** Mean sampling interval, µs. */
  intervalUs: number
  windowUs: [number, number]
  selfByFunction: Entry[]
  selfByFile: Entry[]
  selfByPackage: Entry[]
  inclusiveByFunction: Entry[]
}

const ROOT = /^file:\/\/.*?\/(plugin|dist|bench|demo|test)\//

/** `got/dist/source/core/options.js`, `plugin/proxy.ts`, `node:_http_server`, or `(garbage collector)`. */
export function fileOf (frame: CallFrame): string {
  const { url, functionName } = frame
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  if (url.startsWith('node:')) return url
  const modules = url.lastIndexOf('/node_modules/')
  if (modules !== -1) return url.slice(modules + '/node_modules/'.length)
  const local = ROOT.exec(url)
  // The compiled plugin (bench/lib/compiled.ts) counts as the plugin.
  if (local?.[1] === 'dist') return `plugin/${url.slice(local[0].length)}`
  if (local !== null) return url.slice(local[0].length - local[1]!.length - 1)
  return url.replace(/^file:\/\//, '')
}

/** `got`, `@fastify/cookie`, `plugin`, `node:http` (node core by module family), `(garbage collector)`. */
export function packageOf (frame: CallFrame): string {
  const file = fileOf(frame)
  if (file.startsWith('(')) return file
  if (file.startsWith('node:')) {
    const module = file.slice(5).replace(/^internal\//, '')
    if (/^_?http|^http/.test(module)) return 'node:http'
    if (/^(net|_stream|streams?\/|stream)/.test(module)) return 'node:net+stream'
    if (/^(process\/task_queues|timers|async_hooks|process\/promises)/.test(module)) return 'node:async (microtasks, timers)'
    if (/^url|^querystring/.test(module)) return 'node:url'
    if (/^(events|event_target)/.test(module)) return 'node:events'
    return 'node:other'
  }
  const parts = file.split('/')
  if (parts[0]?.startsWith('@') === true) return `${parts[0]}/${parts[1]}`
  if (parts[0] === 'plugin' || parts[0] === 'bench') return parts[0]
  return parts[0] ?? file
}

function functionKey (frame: CallFrame): string {
  return `${frame.functionName === '' ? '(anonymous)' : frame.functionName}  ${fileOf(frame)}:${frame.lineNumber + 1}`
}

function top (counts: Map<string, number>, busy: number, limit: number): Entry[] {
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, limit)
    .map(([name, samples]) => ({ name, samples, percent: samples / busy * 100 }))
}

function add (counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

/**
 * Summarises the samples taken between `fromUs` and `toUs` (the profile's
 * monotonic clock, the one process.hrtime reads), or all of them.
 */
export function summarise (profile: CpuProfile, limit = 30, fromUs = -Infinity, toUs = Infinity): ProfileSummary {
  const nodes = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

  const selfFn = new Map<string, number>()
  const selfFile = new Map<string, number>()
  const selfPkg = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let t = profile.startTime
  let samples = 0
  let idle = 0
  let first = Infinity
  let last = -Infinity
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0
    if (t < fromUs || t > toUs) continue
    first = Math.min(first, t)
    last = Math.max(last, t)
    samples++
    const node = nodes.get(profile.samples[i] as number) as ProfileNode
    if (node.callFrame.functionName === '(idle)') {
      idle++
      continue
    }
    add(selfFn, functionKey(node.callFrame))
    add(selfFile, fileOf(node.callFrame))
    add(selfPkg, packageOf(node.callFrame))
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = (nodes.get(id) as ProfileNode).callFrame
      if (frame.functionName === '(root)') continue
      const key = functionKey(frame)
      if (!seen.has(key)) {
        seen.add(key)
        add(inclusive, key)
      }
    }
  }
  const busy = samples - idle
  return {
    samples,
    idlePercent: samples === 0 ? 0 : idle / samples * 100,
    intervalUs: samples > 1 ? (last - first) / (samples - 1) : 0,
    windowUs: [first, last],
    selfByFunction: top(selfFn, busy, limit),
    selfByFile: top(selfFile, busy, limit),
    selfByPackage: top(selfPkg, busy, limit),
    inclusiveByFunction: top(inclusive, busy, limit)
  }
}

export function formatEntries (title: string, entries: readonly Entry[]): string {
  const lines = [title]
  for (const [i, e] of entries.entries()) {
    lines.push(`${String(i + 1).padStart(3)}. ${e.percent.toFixed(1).padStart(5)}%  ${e.name}`)
  }
  return lines.join('\n')
}

/**
 * Where `functionName` is called from: its self samples grouped by the chain
 * of `depth` callers, as % of the busy samples of the whole profile.
 */
export function callersOf (profile: CpuProfile, functionName: string, depth = 6, limit = 8): Entry[] {
  const nodes = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const chains = new Map<string, number>()
  let busy = 0
  for (const id of profile.samples) {
    const frame = (nodes.get(id) as ProfileNode).callFrame
    if (frame.functionName !== '(idle)') busy++
    if (frame.functionName !== functionName) continue
    const chain: string[] = []
    for (let up = parent.get(id); up !== undefined && chain.length < depth; up = parent.get(up)) {
      const caller = (nodes.get(up) as ProfileNode).callFrame
      if (caller.functionName !== '(root)') chain.push(functionKey(caller).replace(/\s+/, ' @ '))
    }
    add(chains, chain.join('  <  '))
  }
  return top(chains, busy, limit)
}

/** A frame as the categoriser sees it: `fileOf()` and the function name. */
export interface Frame { file: string, name: string }

/** First matching rule wins: `leaf` is the sampled frame, `stack` leaf to root. */
export interface CategoryRule {
  name: string
  match (leaf: Frame, stack: readonly Frame[]): boolean
}

/** Shares of the busy samples in the window by the first rule that matches each sample's stack. */
export function categorise (profile: CpuProfile, rules: readonly CategoryRule[], fromUs = -Infinity, toUs = Infinity): Entry[] {
  const nodes = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const stacks = new Map<number, Frame[]>()
  const counts = new Map<string, number>()
  let busy = 0
  let t = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0
    if (t < fromUs || t > toUs) continue
    const id = profile.samples[i] as number
    if ((nodes.get(id) as ProfileNode).callFrame.functionName === '(idle)') continue
    busy++
    let stack = stacks.get(id)
    if (stack === undefined) {
      stack = []
      for (let up: number | undefined = id; up !== undefined; up = parent.get(up)) {
        const frame = (nodes.get(up) as ProfileNode).callFrame
        stack.push({ file: fileOf(frame), name: frame.functionName })
      }
      stacks.set(id, stack)
    }
    const rule = rules.find((r) => r.match(stack[0] as Frame, stack))
    add(counts, rule?.name ?? 'other')
  }
  return top(counts, busy, rules.length + 1)
}

/**
 * The profile of the main thread among those `node --cpu-prof` wrote into
 * `dir`: the one that ran a file whose URL ends with `marker`. tsx's loader
 * thread (Node 20) writes a profile of its own beside it.
 */
export async function mainThreadProfile (dir: string, marker: string): Promise<{ file: string, profile: CpuProfile }> {
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.cpuprofile'))) {
    const file = join(dir, name)
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile
    if (profile.nodes.some((n) => n.callFrame.url.endsWith(marker))) return { file, profile }
  }
  throw new Error(`bench: no main-thread profile in ${dir}`)
}
