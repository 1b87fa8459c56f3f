import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { shardsOf } from './helpers/shard.js'

// npm test runs the test files in the processes of test/shards/, each
// importing its share (test/helpers/shard.ts). These prove what that must
// keep from one process per file: every file runs, once; a failure is
// reported under its file; each file has tap's whole timeout, not a share
// of its shard's; a file that hangs still fails.

const TEST = dirname(fileURLToPath(import.meta.url))
const LOADER = join(TEST, 'helpers/typescript.mjs')
const SHARD = new URL('./helpers/shard.ts', import.meta.url).href
const TAP = import.meta.resolve('tap')

t.test('every test file of test/ is in exactly one shard', async (t) => {
  const files = readdirSync(TEST).filter((name) => name.endsWith('.test.ts')).sort()
  const sharded = [...shardsOf(join(TEST, 'shards')).values()].flat().sort()
  t.same(sharded, files)
  t.ok(sharded.includes('shard-runner.test.ts'))
})

t.test('the files are dealt out longest first, each to the shard with the least time so far; an unlisted file counts as the median', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'fastify-spotify-auth-shards-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  mkdirSync(join(root, 'shards'))
  for (const name of ['shards/1.test.ts', 'shards/2.test.ts', 'a.test.ts', 'b.test.ts', 'c.test.ts', 'd.test.ts', 'e.test.ts']) writeFileSync(join(root, name), '')
  writeFileSync(join(root, 'shards/durations.json'), JSON.stringify({ 'a.test.ts': 5, 'b.test.ts': 1, 'c.test.ts': 1, 'd.test.ts': 3, 'gone.test.ts': 9 }))
  // e counts as 3 (the median of 1, 1, 3, 5, 9): a → 1 (5), d → 2 (3), e → 2 (6), b → 1 (6), c → 1 (7).
  t.same([...shardsOf(join(root, 'shards'))], [['1.test.ts', ['a.test.ts', 'b.test.ts', 'c.test.ts']], ['2.test.ts', ['d.test.ts', 'e.test.ts']]])
})

/** A folder of test files and two shards over them, the shards run as tap runs them, one at a time. */
function suite (t: Test, files: Record<string, string>): (shard: string, timeout: number) => Promise<{ code: number | string, output: string }> {
  const root = mkdtempSync(join(tmpdir(), 'fastify-spotify-auth-shards-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  mkdirSync(join(root, 'shards'))
  for (const shard of ['1.test.ts', '2.test.ts']) {
    writeFileSync(join(root, 'shards', shard), `import { runShard } from '${SHARD}'\nrunShard(import.meta.url)\n`)
  }
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(root, name), `import t from '${TAP}'\n${body}\n`)
  }
  return async (shard, timeout) => await new Promise((resolve) => {
    execFile(process.execPath, [`--import=${LOADER}`, join(root, 'shards', shard)], {
      cwd: root,
      env: { ...process.env, TAP_TIMEOUT: String(timeout) }
    }, (error, stdout) => resolve({ code: error === null ? 0 : (error.code ?? error.signal ?? -1), output: stdout }))
  })
}

const wait = (ms: number): string => `await new Promise((resolve) => setTimeout(resolve, ${ms}))`

t.test('a shard runs its files in order, each with the whole timeout, and fails with any of them', async (t) => {
  const run = suite(t, {
    'a.test.ts': `t.test('a waits', async (t) => { ${wait(700)}; t.pass('a') })`,
    'b.test.ts': 't.test(\'b does not run in shard 1\', async (t) => { t.pass(\'b\') })',
    'c.test.ts': `t.test('c waits', async (t) => { ${wait(700)}; t.pass('c') })`,
    'd.test.ts': 't.test(\'d fails\', async (t) => { t.equal(1, 2, \'d\') })',
    'e.test.ts': `t.test('e waits', async (t) => { ${wait(700)}; t.pass('e') })`
  })
  // Shard 1 holds a, c and e: 2.1 s of waits, each well within a 1 s timeout.
  const first = await run('1.test.ts', 1)
  t.equal(first.code, 0, first.output)
  const order = [...first.output.matchAll(/^ok \d+ - (.+?)(?: #.*)?$/gm)].map((match) => match[1])
  t.same(order, ['a.test.ts', 'a waits', 'c.test.ts', 'c waits', 'e.test.ts', 'e waits'])
  // Shard 2 holds b and d: d's failure fails it, named under d's file.
  const second = await run('2.test.ts', 1)
  t.equal(second.code, 1)
  t.match(second.output, /^ok \d+ - b does not run in shard 1/m)
  t.match(second.output, /^not ok \d+ - d fails/m)
  t.match(second.output, /fileName: d\.test\.ts/)
})

t.test('a file that never ends fails its shard at the timeout, and one that throws as it loads fails it at once', async (t) => {
  const run = suite(t, {
    // Never resolves; its timer keeps the process up for 3 s, past the timeout.
    'a.test.ts': 't.test(\'a hangs\', () => new Promise(() => { setTimeout(() => {}, 3000) }))',
    'b.test.ts': 'throw new Error(\'b cannot load\')'
  })
  const hung = await run('1.test.ts', 1)
  t.equal(hung.code, 1)
  t.match(hung.output, /^ {4}not ok 1 - timeout!$/m)
  const thrown = await run('2.test.ts', 30)
  t.equal(thrown.code, 1)
  t.match(thrown.output, /^not ok \d+ - b\.test\.ts/m)
  t.match(thrown.output, /b cannot load/)
})
