import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/**
 * Where the kernel's ephemeral ports start (Linux; 32768 elsewhere). A port
 * from the ephemeral range, freed by this helper, can be taken back by the
 * kernel as the local port of any outgoing connection (the suite makes
 * thousands: Redis, PostgreSQL, emulators) before the server meant for it
 * listens: `EADDRINUSE`. Ports below the range are never handed out that way.
 */
function ephemeralStart (): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)
    const start = Number(low)
    return Number.isInteger(start) && start > 20_000 ? start : 32_768
  } catch {
    return 32_768
  }
}

const LOWEST = 20_000
const HIGHEST = ephemeralStart() - 1

async function bindable (port: number): Promise<boolean> {
  const server = createServer()
  server.listen(port, '127.0.0.1')
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => { throw err })])
  } catch {
    return false
  }
  server.close()
  await once(server, 'close')
  return true
}

/**
 * A free TCP port on 127.0.0.1 (free when this resolves), below the
 * kernel's ephemeral range, so that no outgoing connection takes it before
 * the server meant for it listens. Picked at random: test files run side by
 * side, each with its own picks.
 */
export async function freePort (): Promise<number> {
  for (;;) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1))
    if (await bindable(port)) return port
  }
}
