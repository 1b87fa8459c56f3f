import t from 'tap'
import { Example } from './helpers/examples.js'

t.test('testing an app with the emulator: the example\'s own tests pass under node:test', async (t) => {
  const run = await Example.run(t, ['--test', '--test-reporter=tap', 'testing/app.test.ts'])
  t.equal(run.code, 0, `node --test passes (stdout: ${run.stdout.join(' | ')}; stderr: ${run.stderr.join(' | ')})`)
  t.ok(run.stdout.includes('# pass 4'), 'four tests')
  t.ok(run.stdout.includes('# fail 0'), 'none failing')
})
