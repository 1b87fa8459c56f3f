import t from 'tap'
import Fastify from 'fastify'

// The suite runs with deprecations and Fastify's warnings as errors
// (test/helpers/strict-warnings.mjs and --throw-deprecation, from .taprc and
// npm run test:quick): these prove the setup holds, on Fastify 5 and 6.

t.test('a Fastify warning throws where it is emitted', async (t) => {
  t.throws(() => { process.emitWarning('a test warning', 'FastifyWarning', 'FSTTEST001') }, { name: 'FastifyWarning', message: /FSTTEST001: a test warning/ })
  t.throws(() => { process.emitWarning('a test deprecation', { type: 'FastifyDeprecation', code: 'FSTTEST002' }) }, { name: 'FastifyDeprecation', message: /FSTTEST002/ })
  t.throws(() => { process.emitWarning('no code', { type: 'FastifySecurity' }) }, { name: 'FastifySecurity', message: /FastifySecurity : no code/ })
  const warning = Object.assign(new Error('an emitted error'), { name: 'FastifyWarning', code: 'FSTTEST003' })
  t.throws(() => { process.emitWarning(warning) }, { name: 'FastifyWarning', message: /FSTTEST003: an emitted error/ })
})

t.test('Node deprecations throw (--throw-deprecation: on the next tick, an uncaught exception)', async (t) => {
  t.equal(process.throwDeprecation, true)
})

t.test('a second error handler in one scope throws, as allowErrorHandlerOverride: false makes it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.setErrorHandler((error, _request, reply) => reply.send(error))
  // Fastify 5 warns (FSTWRN004), which the suite turns into an error;
  // Fastify 6 refuses by default (FST_ERR_ERROR_HANDLER_ALREADY_SET).
  t.throws(() => app.setErrorHandler((error, _request, reply) => reply.send(error)), /FSTWRN004|Error Handler already set/)
})

t.test('an error handler in a scope of its own is not an override', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.setErrorHandler(async (_error, _request, reply) => reply.code(500).send('root'))
  await app.register(async (scope) => {
    scope.setErrorHandler(async (_error, _request, reply) => reply.code(500).send('scope'))
    scope.get('/scope', async () => { throw new Error('x') })
  })
  app.get('/root', async () => { throw new Error('x') })
  t.equal((await app.inject('/scope')).body, 'scope')
  t.equal((await app.inject('/root')).body, 'root')
})

t.test('other warnings still only print', async (t) => {
  const emitted: Array<[string | Error, string?]> = [['a test warning', 'SomeOtherWarning'], ['a plain warning'], [new Error('an error as a warning')]]
  for (const [warning, type] of emitted) {
    const seen = new Promise<Error>((resolve) => process.once('warning', resolve))
    if (type === undefined) process.emitWarning(warning)
    else process.emitWarning(warning, type)
    t.match(await seen, { name: type ?? (warning instanceof Error ? 'Error' : 'Warning') })
  }
})
