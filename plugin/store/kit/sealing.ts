import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import type { SpotifyToken } from '../types.js'

/** One key generation, derived from one entry of the plugin's `secret`. */
interface KeySet {
  /** Short public id stored with each record, to find the key again after rotation. */
  readonly id: string
  readonly encryption: Buffer
  readonly naming: Buffer
}

function derive (secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'fastify-spotify-auth', `token-store ${purpose}`, 32))
}

/**
 * Encrypts records at rest and names them by an HMAC of the session id, so
 * that a dump of the store yields neither usable tokens nor usable cookies.
 * Keys come from the plugin's `secret` (HKDF, one purpose per key): the first
 * secret seals and names new records, every secret still opens old ones.
 */
export interface Sealer {
  /** The names a session's record may have, newest key first (also for any other id). */
  names (sessionId: string): string[]
  /** AES-256-GCM with a fresh 12-byte IV; `name` is bound as additional data. */
  seal (value: unknown, name: string): string
  /** The value, or `undefined` when the record was tampered with, moved or sealed by an unknown key. */
  open<T = SpotifyToken> (sealed: string, name: string): T | undefined
}

/** The sealer of `secrets`: keys derived from each (HKDF), the first one sealing. */
export function createSealer (secrets: readonly string[]): Sealer {
  const keys: KeySet[] = secrets.map((secret) => {
    const encryption = derive(secret, 'encryption')
    return {
      id: createHash('sha256').update(encryption).digest('base64url').slice(0, 8),
      encryption,
      naming: derive(secret, 'naming')
    }
  })
  const current = keys[0] as KeySet

  return {
    names (sessionId) {
      return keys.map((key) => createHmac('sha256', key.naming).update(sessionId).digest('base64url'))
    },
    seal (value, name) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', current.encryption, iv)
      cipher.setAAD(Buffer.from(name))
      const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()])
      return [current.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.')
    },
    open<T> (sealed: string, name: string): T | undefined {
      const [id, iv, tag, body] = sealed.split('.')
      const key = keys.find((k) => k.id === id)
      if (key === undefined || iv === undefined || tag === undefined || body === undefined) return undefined
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.encryption, Buffer.from(iv, 'base64url'))
        decipher.setAAD(Buffer.from(name))
        decipher.setAuthTag(Buffer.from(tag, 'base64url'))
        const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()])
        return JSON.parse(plain.toString('utf8')) as T
      } catch {
        return undefined
      }
    }
  }
}
