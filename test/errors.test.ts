import t from 'tap'
import { NoSessionError, UpstreamError } from '../plugin/index.js'
import { summaryOf } from '../plugin/failures.js'

t.test('errors carry no stack trace and a summary of their cause', async (t) => {
  const original = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED', options: { headers: { authorization: 'Bearer secret' } } })
  const error = new UpstreamError('the Web API could not be reached', { cause: summaryOf(original) })
  t.equal(error.code, 'FST_SPOTIFY_UPSTREAM_ERROR')
  t.equal(error.statusCode, 502)
  t.equal(error.stack, undefined, 'no stack captured')
  t.same(error.cause, { name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' })
  t.notMatch(JSON.stringify(error.cause), /secret/, 'nothing but name, code and message')
  t.equal(new NoSessionError().stack, undefined)
})

t.test('summaryOf() summarises anything that was thrown', async (t) => {
  t.same(summaryOf('a string'), { name: 'Error', code: undefined, message: 'a string' })
  t.same(summaryOf(null), { name: 'Error', code: undefined, message: 'null' })
  t.same(summaryOf({ name: 'TimeoutError', code: 'ETIMEDOUT', message: 'slow' }), { name: 'TimeoutError', code: 'ETIMEDOUT', message: 'slow' })
})

t.test('errorBody shows what is ours or a 4xx, and hides any other 5xx', async (t) => {
  const { errorBody } = await import('../plugin/index.js')
  const foreign = Object.assign(new Error('password=hunter2'), { statusCode: 503, code: 'ECONNRESET' }) as never
  t.same(errorBody(foreign), { status: 503, message: 'Internal Server Error', code: 'FST_SPOTIFY_INTERNAL' })
  t.same(errorBody(foreign, (code) => code === 'ECONNRESET'), { status: 503, message: 'password=hunter2', code: 'ECONNRESET' }, 'unless the caller says its code is to be shown')
  t.same(errorBody(Object.assign(new Error('bad input'), { statusCode: 400 }) as never), { status: 400, message: 'bad input', code: 'FST_SPOTIFY_INTERNAL' })
  t.same(errorBody(new UpstreamError('down') as never), { status: 502, message: 'Spotify is unavailable: down', code: 'FST_SPOTIFY_UPSTREAM_ERROR' })
})

t.test('errorCodes lists the code of every exported error', async (t) => {
  const exported = await import('../plugin/index.js')
  const codes = new Set(Object.values(exported.errorCodes))
  t.ok(Object.isFrozen(exported.errorCodes))
  const constructors = Object.entries(exported).filter(([name]) => name.endsWith('Error'))
  t.ok(constructors.length >= 15)
  for (const [name, Make] of constructors) {
    const error = new (Make as unknown as new (...args: string[]) => { code: string })('x')
    t.ok(codes.has(error.code as never), `${name}: ${error.code}`)
  }
})
