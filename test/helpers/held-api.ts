import { createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'

interface Teardown { teardown (fn: () => unknown): void }

/** One held Web API call: `arrived` once it reached the gate, `release` lets it on to the real upstream. */
export interface HeldCall {
  readonly arrived: Promise<void>
  release (): void
}

/**
 * A pass-through in front of a Web API (the emulator) that can hold the
 * next `/v1/` call at the door: a call the plugin has sent, with its
 * bearer, and that has not been answered yet. For races such as a logout
 * while a call is on its way; what the upstream answers once released is
 * up to the upstream (the emulator's switches still apply).
 */
export interface HeldApi {
  /** Pass it as the plugin's `apiUrl`. */
  readonly url: string
  /** Holds the next `/v1/` call until `release()`. */
  holdNext (): HeldCall
}

export async function heldApi (t: Teardown, target: string): Promise<HeldApi> {
  const holds: Array<{ arrive: () => void, gate: Promise<void> }> = []

  function pass (request: IncomingMessage, response: ServerResponse): void {
    const upstream = forward(new URL(request.url as string, target), { method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode as number, answer.rawHeaders)
      answer.pipe(response)
    })
    upstream.on('error', () => { response.destroy() })
    request.pipe(upstream)
  }

  const server = createServer((request, response) => {
    const held = request.url?.startsWith('/v1/') === true ? holds.shift() : undefined
    if (held === undefined) return pass(request, response)
    held.arrive()
    held.gate.then(() => { pass(request, response) }, () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    holdNext () {
      let arrive!: () => void
      let release!: () => void
      const arrived = new Promise<void>((resolve) => { arrive = resolve })
      const gate = new Promise<void>((resolve) => { release = resolve })
      holds.push({ arrive, gate })
      return { arrived, release }
    }
  }
}
