import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { buildPlugin } from './compiled.js'
import type { Command, Reply, ServerInfo } from './protocol.js'

/** tsx's loader, resolved from here so that the benchmark runs from any directory. */
export const TSX_LOADER = import.meta.resolve('tsx')

export interface ServerProcessOptions {
  /** Extra node flags for the server process (e.g. --cpu-prof). */
  nodeFlags?: readonly string[]
  /** How long the servers may take to start, ms. */
  startTimeout?: number
}

type Call = { [C in Command['command']]: Omit<Extract<Command, { command: C }>, 'id'> }[Command['command']]

export interface ServerProcess {
  readonly info: ServerInfo
  readonly pid: number
  call<T> (command: Call): Promise<T>
  /** Closes the servers and waits for the process to exit; resolves its exit code. */
  close (): Promise<number | null>
}

/**
 * Forks bench/lib/servers.ts (every server of the benchmark in one process)
 * and resolves once it has logged a session in.
 */
export function startServers (options: ServerProcessOptions = {}): Promise<ServerProcess> {
  buildPlugin()
  const entry = fileURLToPath(new URL('./servers.ts', import.meta.url))
  const child: ChildProcess = fork(entry, [], {
    execArgv: ['--import', TSX_LOADER, ...(options.nodeFlags ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const pending = new Map<number, { resolve (value: unknown): void, reject (err: Error): void }>()
  let nextId = 1
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    for (const { reject } of pending.values()) reject(new Error(`bench: server process exited (${code})`))
    pending.clear()
    resolve(code)
  }))

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error('bench: the server process did not start in time'))
    }, options.startTimeout ?? 30_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`bench: the server process exited during start (${code})`))
    })
    child.on('message', (message: Reply) => {
      if (message.type === 'ready') {
        clearTimeout(timer)
        resolve({
          info: message.info,
          pid: child.pid as number,
          call<T> (command: Call): Promise<T> {
            const id = nextId++
            return new Promise<T>((resolve, reject) => {
              pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
              child.send({ ...command, id })
            })
          },
          async close () {
            if (child.exitCode === null && child.connected) {
              const id = nextId++
              child.send({ command: 'close', id })
            }
            const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000)
            const code = await exited
            clearTimeout(deadline)
            return code
          }
        })
        return
      }
      const waiter = pending.get(message.id)
      if (waiter === undefined) return
      pending.delete(message.id)
      if (message.ok) waiter.resolve(message.result)
      else waiter.reject(new Error(message.error))
    })
  })
}
