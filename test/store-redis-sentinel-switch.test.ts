import { EventEmitter, once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import t from 'tap'
import { Redis } from 'ioredis'
import { redisStore } from '../plugin/index.js'
import { ioredisConnection, type IoredisClient } from '../plugin/store/redis/ioredis.js'
import { eventually } from './helpers/eventually.js'
import { CLIENT_ID } from './helpers/build.js'
import { privateRedis } from './helpers/redis.js'

const SECRET = 'a-secret-of-at-least-32-characters-long!!'

/**
 * A sentinel that knows one master and answers what an ioredis Sentinel
 * client asks (RESP2): the master's address, no other sentinel, and
 * +switch-master subscriptions. `hold()` keeps the next master lookups
 * unanswered until `release()`.
 */
async function fakeSentinel (t: { teardown (fn: () => unknown): void }, masterPort: number) {
  const subscribers = new Set<Socket>()
  const held: Array<() => void> = []
  let holding = false
  const bulk = (value: string) => `$${Buffer.byteLength(value)}\r\n${value}\r\n`
  const array = (values: string[]) => `*${values.length}\r\n${values.map(bulk).join('')}`
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    let buffer = ''
    socket.on('error', () => {})
    socket.on('close', () => { subscribers.delete(socket); sockets.delete(socket) })
    socket.on('data', (chunk) => {
      buffer += chunk.toString()
      // Each command: *N, then N bulk strings.
      for (;;) {
        const parts = buffer.split('\r\n')
        const count = Number(parts[0]?.slice(1))
        if (!(count > 0) || parts.length < 1 + count * 2 + 1) return
        const args = Array.from({ length: count }, (_, i) => parts[2 + i * 2] as string)
        buffer = parts.slice(1 + count * 2).join('\r\n')
        const command = args.map((arg) => arg.toLowerCase())
        if (command[0] === 'hello') {
          socket.write("-ERR unknown command 'HELLO'\r\n")
        } else if (command[0] === 'sentinel' && command[1] === 'get-master-addr-by-name') {
          const answer = () => { socket.write(array(['127.0.0.1', String(masterPort)])) }
          if (holding) held.push(answer)
          else answer()
        } else if (command[0] === 'sentinel') {
          socket.write('*0\r\n')
        } else if (command[0] === 'subscribe') {
          subscribers.add(socket)
          socket.write(`*3\r\n${bulk('subscribe')}${bulk(args[1] as string)}:1\r\n`)
        } else {
          socket.write('+OK\r\n')
        }
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    server.close()
    await once(server, 'close')
  })
  return {
    port: (server.address() as { port: number }).port,
    subscribers,
    hold: () => { holding = true },
    held: () => held.length,
    release: () => {
      holding = false
      for (const answer of held.splice(0)) answer()
    },
    /** Announces a failover to every subscriber, as a sentinel does. */
    switchMaster: () => {
      const message = `mymaster 127.0.0.1 ${masterPort} 127.0.0.1 ${masterPort}`
      for (const socket of subscribers) socket.write(`*3\r\n${bulk('message')}${bulk('+switch-master')}${bulk(message)}`)
    }
  }
}

// ioredis (5 and 6) ends a Sentinel client for good when its failover
// detector hears +switch-master while the client, reconnecting, is asking a
// sentinel for the master: the detector's disconnect cuts that attempt, and
// the cut attempt ends the client instead of retrying. The sentinels announce
// the switch just as clients of the dead master reconnect, so this happens
// in real failovers; the store must not be left with a dead client.
t.test('a Sentinel client ended by the failover announcement during a reconnection connects again', async (t) => {
  const master = await privateRedis(t)
  const sentinel = await fakeSentinel(t, Number(new URL(master.url).port))
  const client = new Redis({ sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: 'mymaster', failoverDetector: true, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  await once(client, 'ready')
  const store = await redisStore({ client })({ secrets: [SECRET], clientId: CLIENT_ID })
  t.teardown(() => store.close?.())
  await store.ping?.()
  // Both connections (the client's and the store's subscriber) listen for the switch.
  await eventually('the failover detectors to subscribe', () => sentinel.subscribers.size === 2)

  // The master drops the client's connection; its reconnection asks the
  // sentinel, which holds the answer while it announces the switch.
  sentinel.hold()
  const admin = new Redis(master.url)
  t.teardown(() => admin.disconnect())
  await admin.call('CLIENT', 'KILL', 'TYPE', 'normal')
  await admin.quit()
  await eventually('the reconnection to ask for the master', () => sentinel.held() > 0)
  const detectors = [...sentinel.subscribers]
  sentinel.switchMaster()
  await eventually('the detectors to disconnect', () => detectors.every((socket) => socket.closed))
  sentinel.release()

  await eventually('the store to work again', async () => { await store.ping?.(); return true }, { within: 5000, every: 50 })
  t.equal(client.status, 'ready')
})

t.test('a cut attempt that ioredis retried leaves the client ended when its owner ends it', async (t) => {
  // A stand-in for an ioredis client: its events and connect() are all the
  // revival uses. (The real sequence, above, needs a topology to provoke.)
  const client = Object.assign(new EventEmitter(), { status: 'ready', options: {}, connects: 0, connect: async () => { client.connects++ } })
  ioredisConnection(client as unknown as IoredisClient)
  const cutShort = () => {
    client.status = 'connecting'
    client.emit('error', new Error('Connection is closed.'))
  }

  cutShort()
  client.emit('end')
  t.equal(client.connects, 1, 'ended by the cut: connected again')

  for (const retried of ['reconnecting', 'ready']) {
    cutShort()
    client.emit(retried)
    client.status = 'end'
    client.emit('end')
    t.equal(client.connects, 1, `cut, then ${retried}, then ended by its owner: stays ended`)
  }

  client.emit('error', new Error('Connection is closed.'))
  client.emit('end')
  t.equal(client.connects, 1, 'the error while not connecting is not the signature')
})
