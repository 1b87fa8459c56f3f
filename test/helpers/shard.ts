import { readFileSync, readdirSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import t from 'tap'

/*
 * `npm test` runs the files of test/ in a few processes, not one process
 * per file. A test process spends about a CPU-second before its first test
 * (tap and its process tracker, the TypeScript loader, Fastify, got, the
 * plugin, the first emulator), and most of a file's time is spent waiting
 * on servers and timers: one process per file spent more CPU starting than
 * testing, and on a busy machine the suite took as long as its CPU. So each file in
 * test/shards/ is a process that imports its share of test/*.test.ts, one
 * file after the other, in the order tap would have run them.
 *
 * The files stay what they were: one behaviour each, runnable alone
 * (`npx tap test/proxy.test.ts`), each importing tap's root test and
 * adding its tests to it. A file's tests are the root's subtests, which run
 * one after the other, so the files of a shard run one after the other too.
 * Before each file, a subtest named after it gives the shard tap's whole
 * timeout again: a file has the same allowance as when it ran alone, and a
 * file that hangs fails its shard in that time, not after the others'.
 */

// tap's order: by name, for people reading the output.
const byName = (a: string, b: string): number => a.localeCompare(b, 'en')

function testFiles (folder: string): string[] {
  return readdirSync(folder).filter((name) => name.endsWith('.test.ts')).sort(byName)
}

/**
 * The test files of each shard, by the shard's file name: the shards are the
 * test files of `shards`, the tests those of the folder above it. A shard
 * takes as long as its files one after the other, and the suite as long as
 * its longest shard, so the files are dealt out longest first, each to the
 * shard with the least time so far, by the durations of `durations.json`
 * beside the shards (seconds per file, written by `npm run
 * test:durations`); a file it does not list counts as the median. Stale
 * durations only make the shards less even: each file is still in exactly
 * one shard, and a new file needs no list to join.
 */
export function shardsOf (shards: string): Map<string, string[]> {
  const names = testFiles(shards)
  const files = testFiles(dirname(shards))
  const known = durations(join(shards, 'durations.json'))
  const sorted = Object.values(known).sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)] ?? 1
  const weight = (file: string): number => known[file] ?? median
  const dealt = names.map(() => ({ files: [] as string[], seconds: 0 }))
  for (const file of [...files].sort((a, b) => weight(b) - weight(a))) {
    const lightest = dealt.reduce((least, shard) => shard.seconds < least.seconds ? shard : least)
    lightest.files.push(file)
    lightest.seconds += weight(file)
  }
  return new Map(names.map((name, i) => [name, (dealt[i]?.files ?? []).sort(byName)]))
}

function durations (path: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
}

/** Runs the share of the test files of the shard whose module URL is `shardUrl` (a file of test/shards/). */
export function runShard (shardUrl: string): void {
  const shard = fileURLToPath(shardUrl)
  const tests = dirname(dirname(shard))
  const files = shardsOf(dirname(shard)).get(basename(shard)) ?? []
  // tap hands its timeout (seconds) to each test process.
  const timeout = Number(process.env.TAP_TIMEOUT ?? 30) * 1000
  const next = (i: number): void => {
    const file = files[i]
    if (file === undefined) return
    const path = join(tests, file)
    t.test(relative(process.cwd(), path), async () => {
      t.setTimeout(timeout)
      try {
        // Adds the file's tests to the root, after this subtest.
        await import(pathToFileURL(path).href)
      } finally {
        next(i + 1)
      }
    })
  }
  next(0)
}
