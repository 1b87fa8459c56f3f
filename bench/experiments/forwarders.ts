/**
 * THROWAWAY: got-free forwarders for the proxy path, to see what it could
 * reach. Same work as plugin/proxy.ts for a GET (path check, session cookie,
 * store lookup with refresh through `request.spotify.getToken()`, the
 * allow-listed request headers, the filtered response headers), with another
 * HTTP client. No 401 retry, no timeouts, no error mapping: not for the plugin
 * as is.
 *
 *   /x-undici/*         undici Pool (128 connections, as @fastify/reply-from), body buffered
 *   /x-undici-stream/*  the same, body streamed to the client
 *   /x-http/*           node:http with a keep-alive Agent, body buffered
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Pool } from 'undici'
import { safeApiPath } from '../../plugin/api-path.js'

const FORWARDED_REQUEST_HEADERS = [
  'accept', 'accept-language', 'content-type', 'content-length',
  'if-match', 'if-none-match', 'if-modified-since', 'range'
] as const
const DROPPED_RESPONSE_HEADERS = new Set([
  'set-cookie', 'set-cookie2', 'connection', 'keep-alive', 'proxy-authenticate',
  'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-length', 'content-encoding'
])

function requestHeaders (incoming: IncomingHttpHeaders, accessToken: string): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${accessToken}` }
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = incoming[name]
    if (typeof value === 'string') headers[name] = value
  }
  return headers
}

function responseHeaders (upstream: Record<string, string | string[] | undefined>, keepLength: boolean): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {}
  for (const name in upstream) {
    const value = upstream[name]
    if (value === undefined) continue
    if (DROPPED_RESPONSE_HEADERS.has(name) && !(keepLength && name === 'content-length')) continue
    headers[name] = value
  }
  return headers
}

/** `/v1/<path>?<query>` of a request to `<prefix>/<path>`, or undefined when refused. */
function upstreamPath (request: FastifyRequest, prefix: string): string | undefined {
  const raw = request.url
  const queryAt = raw.indexOf('?')
  const rawPath = queryAt === -1 ? raw : raw.slice(0, queryAt)
  const path = safeApiPath(rawPath.slice(prefix.length + 1))
  return path === undefined ? undefined : '/v1/' + path + (queryAt === -1 ? '' : raw.slice(queryAt))
}

type Forward = (path: string, headers: Record<string, string>, reply: FastifyReply) => Promise<FastifyReply>

function route (app: FastifyInstance, prefix: string, forward: Forward): void {
  app.get(`${prefix}/*`, async (request, reply) => {
    const path = upstreamPath(request, prefix)
    if (path === undefined) return reply.code(400).send({ error: 'invalid path' })
    const token = await request.spotify.getToken()
    if (token === null) return reply.code(401).send({ error: 'no session' })
    return forward(path, requestHeaders(request.headers, token.accessToken), reply)
  })
}

/** Registers the forwarders on `app` (which has the plugin) and returns their paths for /me. */
export async function forwarders (app: FastifyInstance, upstreamUrl: string): Promise<Record<string, string>> {
  const pool = new Pool(upstreamUrl, { connections: 128, pipelining: 1 })
  const agent = new Agent({ keepAlive: true })
  app.addHook('onClose', async () => {
    agent.destroy()
    await pool.close()
  })

  route(app, '/x-undici', async (path, headers, reply) => {
    const response = await pool.request({ method: 'GET', path, headers })
    const body = Buffer.from(await response.body.arrayBuffer())
    return reply.code(response.statusCode).headers(responseHeaders(response.headers, false)).send(body)
  })

  route(app, '/x-undici-stream', async (path, headers, reply) => {
    const response = await pool.request({ method: 'GET', path, headers })
    return reply.code(response.statusCode).headers(responseHeaders(response.headers, true)).send(response.body)
  })

  const origin = new URL(upstreamUrl)
  route(app, '/x-http', (path, headers, reply) => new Promise((resolve, reject) => {
    const req = httpRequest({ host: origin.hostname, port: origin.port, path, method: 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.once('error', reject)
      res.once('end', () => {
        resolve(reply.code(res.statusCode as number).headers(responseHeaders(res.headers, false)).send(Buffer.concat(chunks)))
      })
    })
    req.once('error', reject)
    req.end()
  }))

  return { undici: '/x-undici/me', 'undici-stream': '/x-undici-stream/me', http: '/x-http/me' }
}
