// Preloaded first into every test process (.taprc). Where Node has it
// (22.8 and later), the module compile cache keeps V8's compiled code of
// every module on disk, so the next test process that loads tap, Fastify,
// got and the plugin skips compiling them again: on Node 24, test:quick
// took 150 s instead of 170 (267 CPU-s instead of 309).
//
// Only in runs that measure no coverage (test:quick, test:topology, the runs
// on other Node majors): functions deserialized from the cache have no
// block-level coverage (Node's documentation of the compile cache says so),
// and npm test measures it. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import module from 'node:module'

if (process.env._TAPJS_PROCESSINFO_COVERAGE_ === '0') module.enableCompileCache?.()
