import t from 'tap'
import { NoSessionError, UpstreamError } from '../plugin/index.js'
import { because } from '../plugin/failures.js'

t.test('errors carry no stack trace and a summary of their cause', async (t) => {
  const original = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED', options: { headers: { authorization: 'Bearer secret' } } })
  const error = new UpstreamError('the Web API could not be reached', because(original))
  t.equal(error.code, 'FST_SPOTIFY_UPSTREAM_ERROR')
  t.equal(error.statusCode, 502)
  t.equal(error.stack, undefined, 'no stack captured')
  t.same(error.cause, { name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' })
  t.notMatch(JSON.stringify(error.cause), /secret/, 'nothing but name, code and message')
  t.equal(new NoSessionError().stack, undefined)
})

t.test('because() summarises anything that was thrown', async (t) => {
  t.same(because('a string').cause, { name: 'Error', code: undefined, message: 'a string' })
  t.same(because(null).cause, { name: 'Error', code: undefined, message: 'null' })
  t.same(because({ name: 'TimeoutError', code: 'ETIMEDOUT', message: 'slow' }).cause, { name: 'TimeoutError', code: 'ETIMEDOUT', message: 'slow' })
})
