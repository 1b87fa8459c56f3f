/*
 * `npm start` as a function of its environment and its process, so that the
 * tests run it in their own process: a child process per case costs seconds
 * of CPU (loading Fastify, the plugin and the emulator), which a busy
 * machine turns into tens. `server.ts` only calls it.
 */
import type { buildDemo, Demo } from './app.js'
import { DemoConfigError, loadConfig, type DemoConfig } from './config.js'

/** What `start` uses of Node's `process`. */
export interface StartProcess {
  readonly env: NodeJS.ProcessEnv
  readonly stdout: { readonly isTTY?: boolean, write (text: string): unknown }
  readonly stderr: { write (text: string): unknown }
  exit (code: number): void
  once (signal: 'SIGINT' | 'SIGTERM', listener: () => unknown): unknown
}

/**
 * Loads the demo's app (`demo/app.ts`). `server.ts` imports it only when
 * asked: a bad setting is reported at once, without the cost of loading
 * Fastify, the plugin and the emulator.
 */
export type LoadApp = () => Promise<{ buildDemo: typeof buildDemo }>

/**
 * Starts the demo: a bad setting, or a port it cannot listen on, ends with
 * one line on stderr and `exit(1)`; once it listens, one line on stdout,
 * and SIGINT or SIGTERM close the server, the emulator and the store.
 * Resolves with the running demo, or `undefined` after `exit(1)`.
 */
export async function start (proc: StartProcess, loadApp: LoadApp): Promise<Demo | undefined> {
  let config: DemoConfig | undefined
  let demo: Demo | undefined
  try {
    config = loadConfig(proc.env)
    const { buildDemo } = await loadApp()
    demo = await buildDemo(config, { pretty: proc.stdout.isTTY === true })
    for (const warning of config.warnings) demo.app.log.warn(warning)
    await demo.app.listen({ host: config.host, port: config.port })
  } catch (err) {
    proc.stderr.write(`Cannot start the demo: ${startupErrorMessage(err, config)}\n`)
    await demo?.close()
    proc.exit(1)
    return undefined
  }
  const running = demo
  proc.stdout.write(startupLine(config, running) + '\n')
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // `once`: a second Ctrl+C gets Node's default and ends the process at once.
    proc.once(signal, async () => {
      running.app.log.info(`${signal}: closing the server, the emulator and the store`)
      await running.close()
    })
  }
  return running
}

/** The one line `server.ts` prints once the demo listens. */
export function startupLine (config: DemoConfig, demo: Demo): string {
  const upstream = demo.emulator === undefined
    ? 'on real Spotify'
    : `offline, on the Spotify emulator at ${demo.emulator.url}: no Spotify account needed`
  return `fastify-spotify-auth demo: open ${config.publicUrl} (${upstream}; sessions ${demo.store.description})`
}

/** A start-up failure as one line saying what to fix (no stack trace). */
export function startupErrorMessage (err: unknown, config: Pick<DemoConfig, 'host' | 'port'> | undefined): string {
  if (err instanceof DemoConfigError) return err.message
  const { code, message } = err as { code?: unknown, message?: unknown }
  if (config !== undefined) {
    const { host, port } = config
    if (code === 'EADDRINUSE') return `port ${port} on ${host} is already in use: stop what runs there, or set PORT to a free port`
    if (code === 'EACCES') return `not allowed to listen on port ${port} on ${host}: set PORT to a port above 1023`
    if (code === 'EADDRNOTAVAIL') return `HOST ${host} is not an address of this machine: use 127.0.0.1, or 0.0.0.0 for every interface`
  }
  return String(message ?? err).split('\n')[0]!
}
