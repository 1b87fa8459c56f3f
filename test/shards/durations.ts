// npm run test:durations: writes durations.json, the seconds each test file
// of test/ takes in a process of its own (tap, four at a time, no coverage),
// from which test/helpers/shard.ts deals the files out to even shards. Run
// it when files were added or became much slower or faster; stale figures
// only make the shards less even.
import { spawnSync } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const shards = dirname(fileURLToPath(import.meta.url))
const files = readdirSync(join(shards, '..')).filter((name) => name.endsWith('.test.ts')).sort()
const run = spawnSync('npx', ['tap', '--disable-coverage', ...files.map((name) => `test/${name}`)], {
  cwd: join(shards, '../..'),
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
  stdio: ['ignore', 'pipe', 'inherit']
})
const seconds: Record<string, number> = {}
for (const [, file, ms] of run.stdout.matchAll(/^(?:not )?ok \d+ - test\/(\S+\.test\.ts) # time=([\d.]+)ms$/gm)) {
  seconds[file as string] = Math.round(Number(ms) / 100) / 10
}
const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => a.localeCompare(b, 'en')))
writeFileSync(join(shards, 'durations.json'), JSON.stringify(sorted, null, 2) + '\n')
console.log(`${Object.keys(sorted).length} of ${files.length} files timed; tap exited with ${run.status}`)
process.exitCode = run.status ?? 1
