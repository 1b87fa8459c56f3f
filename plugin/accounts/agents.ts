import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'

/** Keep-alive agents of the token endpoint's calls (the Web API's go through the call policy's own pool). */
export interface Agents {
  readonly http: HttpAgent
  readonly https: HttpsAgent
}

/** The token endpoint's keep-alive agents. */
export function createAgents (): Agents {
  // Keep-alive saves a TCP (and TLS) handshake per proxied request; sockets
  // idle in the pool are unref'd by Node and destroyed when the app closes.
  return {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true })
  }
}

/** Ends their connections: the app is closing. */
export function destroyAgents (agents: Agents): void {
  agents.http.destroy()
  agents.https.destroy()
}
