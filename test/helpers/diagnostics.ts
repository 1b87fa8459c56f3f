import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel'
import { diagnosticsChannels } from '../../plugin/index.js'

/** One message as a subscriber saw it: a copy, taken at the event. */
export interface Seen {
  /** The channel's short name: `token.exchange`, `store`, `session`… */
  readonly channel: string
  /** A tracing channel's event (`start`, `asyncEnd`, `error`…), or `publish`. */
  readonly event: string
  readonly message: Record<string, unknown>
}

const TRACING = ['tokenExchange', 'tokenRefresh', 'store', 'webApi'] as const
const PLAIN = ['rateLimit', 'session'] as const
const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const

/** A message with its error's non-enumerable fields spelt out, so that a scan sees all of it. */
function copyOf (message: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...(message as Record<string, unknown>) }
  const error = copy.error as (Error & { code?: unknown }) | undefined
  if (error !== undefined) copy.error = { name: error.name, code: error.code, message: error.message, cause: (error as { cause?: unknown }).cause }
  return copy
}

/** Subscribes to every channel of the plugin until teardown; `seen` fills as messages come. */
export function recordDiagnostics (t: { teardown (fn: () => unknown): void }): { seen: Seen[], of (channel: string, event?: string): Array<Record<string, unknown>> } {
  const seen: Seen[] = []
  const short = (name: string) => name.slice('fastify-spotify-auth:'.length)
  for (const key of TRACING) {
    const name = diagnosticsChannels[key]
    const handlers = Object.fromEntries(EVENTS.map((event) => [event, (message: unknown) => { seen.push({ channel: short(name), event, message: copyOf(message) }) }]))
    const channel = tracingChannel(name)
    channel.subscribe(handlers as never)
    t.teardown(() => channel.unsubscribe(handlers as never))
  }
  for (const key of PLAIN) {
    const name = diagnosticsChannels[key]
    const handler = (message: unknown) => { seen.push({ channel: short(name), event: 'publish', message: copyOf(message) }) }
    subscribe(name, handler)
    t.teardown(() => unsubscribe(name, handler))
  }
  return {
    seen,
    of: (channel, event = channel === 'session' || channel === 'rate-limit' ? 'publish' : 'asyncEnd') =>
      seen.filter((s) => s.channel === channel && s.event === event).map((s) => s.message)
  }
}
