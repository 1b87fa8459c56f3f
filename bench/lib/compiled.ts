import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

/*
 * The plugin as it ships: compiled by tsc into dist/ (`npm run build`),
 * which the server processes of the speed benchmarks load instead of the
 * TypeScript sources through tsx. tsx keeps function names by wrapping
 * every function it creates in a `__name()` call (a property definition
 * per closure, 1–2% of a proxied request in the profiles) that neither
 * the published package nor @fastify/http-proxy pays.
 *
 * BENCH_PLUGIN=/path/to/index.js (or .ts, under tsx) loads another build
 * instead: the build before a change, for an A/B.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DIST = new URL('../../dist/', import.meta.url)

let built = false

/** Compiles plugin/ into dist/ (tsconfig.build.json) once per run, unless BENCH_PLUGIN names another build. */
export function buildPlugin (): void {
  if (built || process.env.BENCH_PLUGIN !== undefined) return
  built = true
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' })
}

/** The compiled module at `path` under dist/ (`index.js`, `otel/index.js`, …), or BENCH_PLUGIN's sibling of it. */
function urlOf (path: string): string {
  const other = process.env.BENCH_PLUGIN
  if (other === undefined) return new URL(path, DIST).href
  return new URL(path.replace(/\.js$/, other.endsWith('.ts') ? '.ts' : '.js'), pathToFileURL(other)).href
}

export async function compiledPlugin (): Promise<typeof import('../../plugin/index.js')> {
  return await import(urlOf('index.js')) as typeof import('../../plugin/index.js')
}

export async function compiledEmulator (): Promise<typeof import('../../plugin/emulator/index.js')> {
  return await import(urlOf('emulator/index.js')) as typeof import('../../plugin/emulator/index.js')
}

/** Under BENCH_PLUGIN, this checkout's adapter (a build from before it has none): it only subscribes to channels by name. */
export async function compiledOtel (): Promise<typeof import('../../plugin/otel/index.js')> {
  if (process.env.BENCH_PLUGIN !== undefined) return await import('../../plugin/otel/index.js')
  return await import(urlOf('otel/index.js')) as typeof import('../../plugin/otel/index.js')
}
