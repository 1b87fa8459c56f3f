/**
 * `GET /images/{id}`: the pictures that fixture objects point to (Spotify's
 * would be on i.scdn.co). A generated square in a colour derived from the
 * id, so pages showing them work offline and look the same every run.
 */
import { createHash } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'

const ID = /^[0-9A-Za-z]{22}$/

export const imageRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { id: string } }>('/images/:id', async (request, reply) => {
    const { id } = request.params
    if (!ID.test(id)) return reply.code(404).send({ error: { status: 404, message: 'Resource not found' } })
    const hex = createHash('sha256').update(id).digest('hex')
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300" viewBox="0 0 300 300">' +
      `<rect width="300" height="300" fill="#${hex.slice(0, 6)}"/>` +
      `<circle cx="150" cy="150" r="90" fill="#${hex.slice(6, 12)}"/>` +
      '<circle cx="150" cy="150" r="24" fill="#121212"/></svg>'
    return reply
      .header('content-type', 'image/svg+xml')
      .header('cache-control', 'public, max-age=86400')
      .header('content-security-policy', "default-src 'none'")
      .send(svg)
  })
}
