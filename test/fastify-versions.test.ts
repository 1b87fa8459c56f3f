import t from 'tap'
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import semver from 'semver'
import spotifyAuth from '../plugin/index.js'

// Fastify checks a plugin's declared `fastify` range itself (fastify-plugin
// 6 only records it): during a pre-release (-alpha, -pre, -rc) any plugin
// declaring an older major loads; otherwise the version must satisfy the
// range, or register throws FST_ERR_PLUGIN_VERSION_MISMATCH. The same rule,
// read from Fastify's lib/plugin-utils.js (5.x and 6.0.0-alpha):
function loads (version: string, range: string): boolean {
  const preRelease = /-(?:rc|pre|alpha).+$/u.test(version)
  if (preRelease && semver.gt(version, semver.coerce(range) ?? '0.0.0')) return true
  return semver.satisfies(version, range, { includePrerelease: preRelease })
}

const declared = (spotifyAuth as unknown as Record<symbol, { fastify: string }>)[Symbol.for('plugin-meta')]?.fastify ?? ''
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  peerDependencies: Record<string, string>
}

t.test('the plugin declares a range that admits Fastify 5 and 6, pre-releases and releases', async (t) => {
  for (const version of ['5.0.0', '5.12.8', '6.0.0-alpha.4', '6.0.0-rc.1', '6.0.0', '6.9.9']) {
    t.ok(loads(version, declared), `loads on ${version}`)
  }
  for (const version of ['4.29.1', '7.0.0']) t.notOk(loads(version, declared), `refused on ${version}`)
})

t.test('on the Fastify installed, register accepts it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  t.ok(loads(app.version, declared), `Fastify ${app.version}`)
})

t.test('the peer range admits the same majors, the 6.0.0 pre-releases included (npm installs them without --force)', async (t) => {
  const range = pkg.peerDependencies['fastify'] as string
  for (const version of ['5.0.0', '5.12.8', '6.0.0-alpha.4', '6.0.0', '6.9.9']) t.ok(semver.satisfies(version, range), `${range} admits ${version}`)
  for (const version of ['4.29.1', '7.0.0', '7.0.0-alpha.1']) t.notOk(semver.satisfies(version, range), `${range} refuses ${version}`)
})
