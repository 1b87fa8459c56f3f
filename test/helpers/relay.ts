import { once } from 'node:events'
import { createServer, connect, type Server, type Socket } from 'node:net'

interface Teardown { teardown (fn: () => unknown): void }

/**
 * A TCP relay to a server on 127.0.0.1: one client's link to a shared
 * server (Redis, PostgreSQL), to drop, freeze and bring back without
 * touching the server or anyone else's link to it.
 */
export interface TcpRelay {
  /** The relay's own port on 127.0.0.1. */
  readonly port: number
  /** Closes the port and drops every connection: the server looks down. */
  stop (): Promise<void>
  /** Listens again on the same port. */
  start (): Promise<void>
  /** Forwards nothing, in either direction, until `thaw`: the server looks hung. */
  freeze (): void
  thaw (): void
}

export async function tcpRelay (t: Teardown, targetPort: number): Promise<TcpRelay> {
  const sockets = new Set<Socket>()
  let frozen = false
  let server: Server | undefined
  let port = 0

  function relay (client: Socket): void {
    const upstream = connect(targetPort, '127.0.0.1')
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from)
      from.on('error', () => {})
      from.on('close', () => { sockets.delete(from); to.destroy() })
      from.pipe(to)
      if (frozen) from.pause()
    }
  }

  async function start (): Promise<void> {
    const listening = createServer(relay)
    listening.listen(port, '127.0.0.1')
    await once(listening, 'listening')
    port = (listening.address() as { port: number }).port
    server = listening
  }

  async function stop (): Promise<void> {
    const closing = server
    server = undefined
    if (closing === undefined) return
    const closed = once(closing, 'close')
    closing.close()
    for (const socket of sockets) socket.destroy()
    await closed
  }

  await start()
  t.teardown(stop)
  return {
    get port () { return port },
    stop,
    start,
    freeze () {
      frozen = true
      for (const socket of sockets) socket.pause()
    },
    thaw () {
      frozen = false
      for (const socket of sockets) socket.resume()
    }
  }
}
