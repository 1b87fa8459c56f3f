import t from 'tap'
import { readFileSync } from 'node:fs'
import semver from 'semver'

// The Node versions the README's compatibility table supports (and CI runs):
// the package's own engines floor, on the majors 22, 24 and 26.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string }
  devDependencies: Record<string, string>
}
const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, { version?: string, dev?: boolean, engines?: { node?: string } | string[] }>
}
const MAJORS = [22, 24, 26]
const floor = semver.minVersion(pkg.engines.node)?.version ?? ''
const supported = MAJORS.map((major) => `>=${semver.major(floor) === major ? floor : `${major}.0.0`} <${major + 1}.0.0-0`).join(' || ')

function enginesOf (entry: { engines?: { node?: string } | string[] }): string | undefined {
  return Array.isArray(entry.engines) ? undefined : entry.engines?.node
}

t.test('every production dependency runs on every supported Node, the lowest included', async (t) => {
  t.equal(semver.major(floor), 22, `engines ${pkg.engines.node}`)
  const refusing: string[] = []
  for (const [path, entry] of Object.entries(lock.packages)) {
    const engines = enginesOf(entry)
    if (path === '' || entry.dev === true || engines === undefined) continue
    if (!semver.subset(supported, engines)) refusing.push(`${path}@${entry.version} (engines ${engines})`)
  }
  t.same(refusing, [], `every one admits ${supported}`)
})

t.test('every development dependency runs on a current release of each supported major', async (t) => {
  const refusing: string[] = []
  for (const [path, entry] of Object.entries(lock.packages)) {
    const engines = enginesOf(entry)
    if (path === '' || entry.dev !== true || engines === undefined) continue
    for (const major of MAJORS) if (!semver.intersects(`${major}.x`, engines)) refusing.push(`${path}@${entry.version} (engines ${engines}) on ${major}`)
  }
  // Some ask for more than the floor on 22 (neostandard: ^22.13.0): what
  // docs/development.md says a contributor needs.
  t.same(refusing, [], 'every one runs on some release of 22, 24 and 26')
})

t.test('@types/node is the lowest supported major\'s', async (t) => {
  t.equal(semver.minVersion(pkg.devDependencies['@types/node'] as string)?.major, semver.major(floor))
})
