import { signerFactory } from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import t from 'tap'
import { resolveOptions } from '../plugin/options.js'
import { createSessionCookie, newSessionId } from '../plugin/session/cookie.js'
import { SECRET } from './helpers/build.js'

t.test('verified cookies are remembered in a bounded table; reads stay right past the bound', async (t) => {
  const cookie = createSessionCookie(resolveOptions({
    clientId: 'id', clientSecret: 's', redirectUri: 'http://127.0.0.1:5543/callback', secret: SECRET
  }))
  const signer = signerFactory(SECRET)
  const cleared: string[] = []
  const reply = { clearCookie (name: string) { cleared.push(name) } } as unknown as FastifyReply
  const read = (value: string) => cookie.read({ cookies: { spotify_session: value }, headers: { cookie: `spotify_session=${value}` } } as unknown as FastifyRequest, reply)
  const ids = Array.from({ length: 10_050 }, () => newSessionId())
  const signed = ids.map((id) => signer.sign(id))
  let wrong = 0
  for (let i = 0; i < ids.length; i++) if (read(signed[i] as string) !== ids[i]) wrong++
  t.equal(wrong, 0, `${ids.length} sessions read back right`)
  t.equal(read(signed[0] as string), ids[0], 'an evicted value is verified again')
  t.equal(read(signed[10_049] as string), ids[10_049], 'a remembered one is still right')
  t.same(cleared, [])
  t.equal(read((signed[1] as string).slice(0, -2) + 'xx'), undefined, 'a forged signature is never remembered as valid')
  t.same(cleared, ['spotify_session'], 'and the browser is told to drop it')
})

t.test('a cookie in use stays remembered while ten thousand others pass: least recently used make room', async (t) => {
  const checked: string[] = []
  const real = signerFactory(SECRET)
  const counting = { sign: (value: string) => real.sign(value), unsign: (value: string) => { checked.push(value); return real.unsign(value) } }
  const cookie = createSessionCookie(resolveOptions({ clientId: 'id', clientSecret: 's', redirectUri: 'http://127.0.0.1:5543/callback', secret: SECRET }), counting)
  const reply = { clearCookie () {} } as unknown as FastifyReply
  const read = (value: string) => cookie.read({ cookies: { spotify_session: value }, headers: { cookie: `spotify_session=${value}` } } as unknown as FastifyRequest, reply)
  const busy = real.sign(newSessionId())
  read(busy)
  for (let i = 0; i < 12_000; i++) {
    read(real.sign(newSessionId()))
    if (i % 1000 === 0) read(busy)
  }
  t.equal(checked.filter((value) => value === busy).length, 1, 'its signature was checked once')
})
