import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'

/*
 * The store that docs/writing-a-store.md writes, examples/custom-store/,
 * proven as the guide says: its own test (the contract suite, under
 * node:test) runs as a user runs it, through tsx, which maps the package
 * name onto this repository (examples/tsconfig.json). That the guide's
 * blocks equal the files is test/examples-docs.test.ts's business.
 */

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url))

t.test('the example store passes the contract suite, run by its own test', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', 'custom-store/map-store.test.ts'], {
    cwd: EXAMPLES,
    // tap still tracks the child; no coverage there (tsx's code would be reported against the sources).
    env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const [code] = await once(child, 'close') as [number | null]
  t.equal(code, 0, 'node --test passes')
  t.match(output, /^# fail 0$/m)
  const passed = Number(/^# pass (\d+)$/m.exec(output)?.[1])
  t.ok(passed >= 19, `${passed} tests passed: the contract with lock, users and rotation, and the option check`)
  t.notMatch(output, /^not ok/m, output)
})

t.test('the guide quotes the example store and its test', async (t) => {
  const guide = await readFile(new URL('../docs/writing-a-store.md', import.meta.url), 'utf8')
  for (const file of ['map-store.ts#options', 'map-store.ts#update', 'map-store.ts#lock', 'map-store.test.ts#proof']) {
    t.match(guide, `<!-- quote: ../examples/custom-store/${file} -->`)
  }
})
