import { once } from 'node:events'
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'

/*
 * Ports for the servers a test starts itself (an example app in a child
 * process, a redis-server). Not a port the kernel picks (`listen(0)`) and
 * lets go: those come from its ephemeral range, where, before the server
 * meant for it listened, one of the suite's many outgoing connections
 * could take it as its local port (EADDRINUSE, seen in CI). So a port
 * below that range, from the 2 768 that end 10 000 ports below it: a Redis
 * Cluster node also listens on its port + 10 000 (its bus), which then
 * falls between them and the ephemeral range, never on a port this picks.
 *
 * Random ports could collide between the suite's processes (tap runs
 * several), so each is reserved by a file named after it in a folder every
 * suite on the machine shares, holding the reserving process's pid; a
 * file whose process is gone is taken back.
 */

const RESERVATIONS = '/tmp/fastify-spotify-auth-ports'
const SPAN = 2768
const BUS_OFFSET = 10_000

function ephemeralStart (): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768
  } catch {
    return 32768
  }
}

const highest = ephemeralStart() - BUS_OFFSET - 1
const lowest = highest - SPAN + 1
const mine = new Set<number>()

process.once('exit', () => {
  for (const port of mine) {
    try { unlinkSync(join(RESERVATIONS, String(port))) } catch {}
  }
})

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Whether `port` is now this process's: its file created, or taken back from a process that is gone. */
function reserve (port: number): boolean {
  const file = join(RESERVATIONS, String(port))
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      mine.add(port)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    let owner = Number.NaN
    try { owner = Number(readFileSync(file, 'utf8')) } catch {}
    // Still being written by its owner (no pid yet), or held: not ours.
    if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) return false
    try { unlinkSync(file) } catch {}
  }
  return false
}

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

/** A TCP port on 127.0.0.1, free and reserved for this process until it exits (see above). */
export async function freePort (): Promise<number> {
  mkdirSync(RESERVATIONS, { recursive: true })
  for (let tries = 0; tries < SPAN; tries++) {
    const port = lowest + Math.floor(Math.random() * SPAN)
    if (mine.has(port) || !reserve(port)) continue
    if (await bindable(port)) return port
    // Someone outside the suite holds it: leave it to them.
    mine.delete(port)
    try { unlinkSync(join(RESERVATIONS, String(port))) } catch {}
  }
  throw new Error(`no free port between ${lowest} and ${highest} (reservations: ${readdirSync(RESERVATIONS).length})`)
}
