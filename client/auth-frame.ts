// The client's reading of the auth handshake. The frames themselves are server/protocol's, the one
// copy of the wire contract; this only turns a server frame into "a verdict or not".
import { decodeServerMessage, type Scope } from '../server/protocol/messages.js'

export { encodeAuthToken } from '../server/protocol/messages.js'

/** What a socket is allowed to do once admitted (Hocuspocus' strings). */
export type AuthScope = Scope

/** The server's verdict on a token, as read from one incoming frame. */
export type AuthReply = { kind: 'granted'; scope: AuthScope } | { kind: 'denied'; reason: string }

/**
 * Reads a server frame and returns the auth verdict it carries, or null when the frame is not an auth
 * verdict (sync, awareness, an unknown scope, or a malformed frame).
 */
export function decodeAuthReply(frame: Uint8Array): AuthReply | null {
  let message: ReturnType<typeof decodeServerMessage>
  try {
    message = decodeServerMessage(frame)
  } catch {
    // a frame the client cannot read carries no verdict; the provider reports it if it is its own
    return null
  }
  if (message.kind === 'authenticated') return { kind: 'granted', scope: message.scope }
  if (message.kind === 'permission-denied') return { kind: 'denied', reason: message.reason }
  return null
}
