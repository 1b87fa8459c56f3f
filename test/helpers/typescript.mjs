// The TypeScript loader of every test process (.taprc): tsx, which starts in
// a fraction of the time tap's own ts-node loader took per process (that
// loader type-checked nothing here: npm run typecheck does, once) and keeps
// its transforms in a cache on disk across processes.
//
// tap measures coverage through the inspector and maps it back to the
// sources through their inline source maps. tsx writes the TypeScript into
// those maps only when NODE_V8_COVERAGE is set as its hooks load; without
// it every line reads as covered. So the variable is set while tsx loads,
// and taken back: the children a test spawns never see it, and Node writes
// no V8 coverage files of its own.
//
// tsx's hooks run in this thread where it uses module.registerHooks (Node
// 22.22.3, 24.11.1, 26 and later), in the module loader thread elsewhere
// (Node 20), whose environment is a copy made when it starts: there the
// variable is set by a module run in that thread, registered first (and
// only before Node 26, which deprecates module.register).
//
// A run that measures no coverage (test:quick, the runs on other Node
// majors) needs no source maps: where Node strips types itself and has
// in-thread hooks (22.18, 24, 26), typescript-strip.mjs loads the tests
// instead, at about half tsx's start-up cost per test process.
//
// Such a run also turns on Node's module compile cache (22.8 and later):
// V8's compiled code of every module stays on disk, so the next test
// process that loads tap, Fastify, got and the plugin skips compiling them
// again (on Node 24, test:quick took 150 s instead of 170: 267 CPU-s
// instead of 309). Never while coverage is measured: functions
// deserialized from the cache have no block-level coverage (Node's
// documentation of the cache says so). NODE_DISABLE_COMPILE_CACHE=1 turns
// it off.
import module from 'node:module'

// SPOTIFY_AUTH_TEST_LOADER=tsx keeps tsx (to compare the two).
const measured = process.env._TAPJS_PROCESSINFO_COVERAGE_ !== '0'
// Before anything is loaded, the loaders included.
if (!measured) module.enableCompileCache?.()
const strippable = process.features.typescript && typeof module.registerHooks === 'function'
if (!measured && strippable && process.env.SPOTIFY_AUTH_TEST_LOADER !== 'tsx') {
  await import('./typescript-strip.mjs')
} else {
  await tsx()
}

/** tsx, with the coverage variable set while its hooks load (above). */
async function tsx () {
  const VARIABLE = 'NODE_V8_COVERAGE'
  const major = Number(process.versions.node.split('.')[0])
  if (major < 26) module.register('./typescript-loader-env.mjs', import.meta.url)
  const had = Object.hasOwn(process.env, VARIABLE)
  process.env[VARIABLE] ??= 'tsx-source-maps-with-sources'
  await import('tsx')
  if (!had) delete process.env[VARIABLE]
}
