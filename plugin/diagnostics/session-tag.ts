import { createHmac } from 'node:crypto'

/** What a session is called in telemetry: a keyed hash of its id. */
export type SessionTag = (sessionId: string) => string

/**
 * A keyed hash of session ids (HMAC-SHA-256, 16 hex characters), keyed by a
 * key derived from the plugin's current `secret`: the same session has the
 * same tag on every instance sharing the secret (a refresh merged across
 * instances can be followed), while a tag reveals nothing of the id, and
 * nobody without the secret can tell which id it stands for.
 */
export function sessionTagger (secret: string): SessionTag {
  const key = createHmac('sha256', secret).update('fastify-spotify-auth diagnostics session tag').digest()
  return (sessionId) => createHmac('sha256', key).update(sessionId).digest('hex').slice(0, 16)
}
