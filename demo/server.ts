/**
 * `npm start`: the demo server. Configured by environment variables
 * (demo/README.md, "Settings"); without SPOTIFY_CLIENT_ID it runs offline on the embedded
 * Spotify emulator. A bad setting stops it with one line on stderr and exit
 * code 1; SIGINT or SIGTERM close the server, the emulator and the store.
 */
import { buildDemo, startupErrorMessage, startupLine, type Demo } from './app.js'
import { loadConfig, type DemoConfig } from './config.js'

let config: DemoConfig | undefined
let demo: Demo | undefined
try {
  config = loadConfig(process.env)
  demo = await buildDemo(config, { pretty: process.stdout.isTTY === true })
  for (const warning of config.warnings) demo.app.log.warn(warning)
  await demo.app.listen({ host: config.host, port: config.port })
} catch (err) {
  process.stderr.write(`Cannot start the demo: ${startupErrorMessage(err, config)}\n`)
  await demo?.close()
  process.exit(1)
}

const running = demo
process.stdout.write(startupLine(config, running) + '\n')

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `once`: a second Ctrl+C gets Node's default and ends the process at once.
  process.once(signal, async () => {
    running.app.log.info(`${signal}: closing the server, the emulator and the store`)
    await running.close()
  })
}
