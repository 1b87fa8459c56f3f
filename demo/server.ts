/**
 * `npm start`: the demo server. Configured by environment variables
 * (demo/README.md, "Settings"); without SPOTIFY_CLIENT_ID it runs offline on the embedded
 * Spotify emulator. A bad setting stops it with one line on stderr and exit
 * code 1; SIGINT or SIGTERM close the server, the emulator and the store.
 */
import { start } from './startup.js'

// Loaded only once the settings are known good (see startup.ts).
await start(process, async () => await import('./app.js'))
