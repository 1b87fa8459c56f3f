import { sessionChannel, type SessionEndReason, type SessionMessage } from './channels.js'
import type { SessionTag } from './session-tag.js'

/** Publishes a session's start on the `session` channel, when anyone subscribes. */
export function sessionStarted (tag: SessionTag, sessionId: string): void {
  if (sessionChannel.hasSubscribers) sessionChannel.publish({ event: 'started', session: tag(sessionId) } satisfies SessionMessage)
}

/** Publishes a session's end, and why, on the `session` channel, when anyone subscribes. */
export function sessionEnded (tag: SessionTag, sessionId: string, reason: SessionEndReason): void {
  if (sessionChannel.hasSubscribers) sessionChannel.publish({ event: 'ended', session: tag(sessionId), reason } satisfies SessionMessage)
}
