import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** y-protocols message type for auth frames. */
export const messageAuth = 2
/** Auth sub-type: a token (client → server) or permission denied (server → client). */
export const authSubToken = 0
/** Auth sub-type: the server admitted the socket and names the granted scope. */
export const authSubGranted = 2

/** What a socket is allowed to do once admitted (Hocuspocus' strings). */
export type AuthScope = 'read-write' | 'readonly'

/** The server's verdict on a token, as read from one incoming frame. */
export type AuthReply = { kind: 'granted'; scope: AuthScope } | { kind: 'denied'; reason: string }

/** The first frame a client sends when auth is on: `[varUint 2][varUint 0][varString token]`. */
export function encodeAuthTokenFrame(token: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, messageAuth)
  encoding.writeVarUint(encoder, authSubToken)
  encoding.writeVarString(encoder, token)
  return encoding.toUint8Array(encoder)
}

/**
 * Reads a server frame and returns the auth verdict it carries, or null when the frame is not an auth
 * verdict (sync, awareness, an unknown scope, or a truncated frame).
 */
export function decodeAuthReply(frame: Uint8Array): AuthReply | null {
  try {
    const decoder = decoding.createDecoder(frame)
    if (decoding.readVarUint(decoder) !== messageAuth) return null
    const sub = decoding.readVarUint(decoder)
    if (sub === authSubGranted) {
      const scope = decoding.readVarString(decoder)
      return scope === 'read-write' || scope === 'readonly' ? { kind: 'granted', scope } : null
    }
    if (sub === authSubToken) return { kind: 'denied', reason: decoding.readVarString(decoder) }
    return null
  } catch {
    // lib0 throws on a truncated frame; such a frame carries no verdict
    return null
  }
}
