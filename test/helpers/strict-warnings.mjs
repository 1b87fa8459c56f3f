// Preloaded into every test process (.taprc and npm run test:quick pass it
// with --import, next to --throw-deprecation): a warning Fastify or a
// @fastify/* plugin emits (FastifyWarning, FastifyDeprecation,
// FastifySecurity, through process-warning) throws where it is emitted
// instead of printing a line nobody reads. Node's own DeprecationWarning is
// --throw-deprecation's. So a deprecated or removed API used anywhere the
// suite reaches, or a second error handler in one scope (FSTWRN004, what
// Fastify 6 refuses with allowErrorHandlerOverride: false by default),
// fails the test that reached it, with the stack of the call.
const emitWarning = process.emitWarning

function nameOf (warning, typeOrOptions) {
  if (warning instanceof Error) return warning.name
  if (typeof typeOrOptions === 'string') return typeOrOptions
  return typeOrOptions?.type
}

function codeOf (warning, typeOrOptions, code) {
  if (warning instanceof Error) return warning.code
  if (typeof typeOrOptions === 'string') return code
  return typeOrOptions?.code
}

process.emitWarning = function strictEmitWarning (warning, typeOrOptions, code, ...rest) {
  const name = nameOf(warning, typeOrOptions)
  if (typeof name === 'string' && name.startsWith('Fastify')) {
    const message = warning instanceof Error ? warning.message : String(warning)
    const error = new Error(`${name} ${codeOf(warning, typeOrOptions, code) ?? ''}: ${message} (warnings are errors in this suite)`)
    error.name = name
    throw error
  }
  return emitWarning.call(process, warning, typeOrOptions, code, ...rest)
}
