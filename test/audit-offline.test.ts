import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// CI's audit of the production tree when the registry's audit endpoint
// cannot be reached (.ci/audit falls back to .ci/audit-offline.mjs).
const root = new URL('..', import.meta.url).pathname

function audit (args: string[] = []): { status: number | null, stdout: string } {
  const run = spawnSync(process.execPath, ['.ci/audit-offline.mjs', ...args], { cwd: root, encoding: 'utf8' })
  return { status: run.status, stdout: run.stdout }
}

t.test('the committed lockfile has no known vulnerability in its production tree', async (t) => {
  const { status, stdout } = audit()
  t.equal(status, 0, stdout)
  t.match(stdout, /offline audit: \d+ production packages against \d+ advisories/)
})

t.test('a vulnerable production package fails the audit; a vulnerable dev package does not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-offline-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'lock.json'), JSON.stringify({
    packages: {
      '': { name: 'app' },
      'node_modules/undici': { version: '7.2.0' },
      'node_modules/got/node_modules/normalize-url': { version: '6.0.0' },
      'node_modules/ms': { version: '1.0.0', dev: true },
      'node_modules/tools/node_modules/ms': { version: '1.0.0', devOptional: true },
      'node_modules/linked': { link: true },
      'node_modules/fetcher': { name: 'undici', version: '7.1.0' },
      'node_modules/debug': { version: '4.4.3' },
      'node_modules/toad-cache': { version: '3.7.4' }
    }
  }))
  writeFileSync(join(dir, 'advisories.json'), JSON.stringify({
    date: 'test',
    advisories: {
      undici: [{ id: 'A-1', url: 'https://example.test/a-1', title: 'a flaw', severity: 'high', vulnerable_versions: '>=7.0.0 <7.2.3' }],
      'normalize-url': [{ id: 'A-2', url: 'https://example.test/a-2', title: 'another', severity: 'low', vulnerable_versions: '6.0.0' }],
      ms: [{ id: 'A-3', url: 'https://example.test/a-3', title: 'dev only', severity: 'high', vulnerable_versions: '<2.0.0' }],
      debug: [{ id: 'A-4', url: 'https://example.test/a-4', title: 'fixed', severity: 'low', vulnerable_versions: '<4.3.1' }]
    }
  }))
  const { status, stdout } = audit(['--lock', join(dir, 'lock.json'), '--advisories', join(dir, 'advisories.json')])
  t.equal(status, 1)
  t.match(stdout, /high: undici@7\.2\.0 \(node_modules\/undici\): a flaw/)
  t.match(stdout, /low: normalize-url@6\.0\.0 \(node_modules\/got\/node_modules\/normalize-url\)/)
  t.match(stdout, /high: undici@7\.1\.0 \(node_modules\/fetcher\): a flaw/, 'an alias is checked under the package it is')
  t.notMatch(stdout, /dev only/)
  t.notMatch(stdout, /fixed/)
  t.match(stdout, /offline audit: 5 production packages against 4 advisories \(snapshot of test\)/)
  t.match(stdout, /known vulnerabilities in the production tree: 3/)
})
