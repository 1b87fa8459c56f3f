import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'

/** Keep-alive agents shared by every upstream call of one plugin instance. */
export interface Agents {
  readonly http: HttpAgent
  readonly https: HttpsAgent
}

export function createAgents (): Agents {
  // Keep-alive saves a TCP (and TLS) handshake per proxied request; sockets
  // idle in the pool are unref'd by Node and destroyed when the app closes.
  return {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true })
  }
}

export function destroyAgents (agents: Agents): void {
  agents.http.destroy()
  agents.https.destroy()
}
