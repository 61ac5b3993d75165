// The Hocuspocus provider's framing (docs/PROTOCOL.md, "The Hocuspocus framing") as pure functions.
// Every frame is `varString(documentName)` then one message. Types 0-3 carry the same bodies as the
// y-websocket framing (messages.ts), except that permission-denied is auth sub 1 here; 5 (stateless),
// 7 (close) and 8 (sync status) are Hocuspocus' own. Imports only lib0 and messages.ts.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import {
  type ClientMessage,
  decodeClientMessage,
  ProtocolError,
  readString,
  readUint,
  type Scope,
} from './messages.js'

export const HocuspocusType = {
  sync: 0,
  awareness: 1,
  auth: 2,
  queryAwareness: 3,
  stateless: 5,
  close: 7,
  syncStatus: 8,
  ping: 9,
  pong: 10,
} as const

/** Auth sub-types of this framing: a token from a client; denied or admitted from the server. */
export const HocuspocusAuthSub = { token: 0, permissionDenied: 1, authenticated: 2 } as const

export type HocuspocusClientMessage =
  | ClientMessage
  | { kind: 'stateless'; payload: string }
  /** The provider detached this document (its socket stays open for the others). */
  | { kind: 'close' }

export type HocuspocusClientFrame =
  | { document: string; message: HocuspocusClientMessage }
  /** A provider's answer to an application-level ping: a bare type byte, no document. */
  | { document: null; message: { kind: 'pong' } }

/** Decodes one client frame. Throws ProtocolError (1002/1007) on anything malformed. */
export function decodeHocuspocusFrame(frame: Uint8Array): HocuspocusClientFrame {
  if (frame.length === 0) throw new ProtocolError(1002, 'empty frame')
  if (frame.length === 1 && frame[0] === HocuspocusType.pong)
    return { document: null, message: { kind: 'pong' } }
  const decoder = decoding.createDecoder(frame)
  const document = readString(decoder, 'document name')
  const rest = frame.subarray(decoder.pos)
  if (rest.length === 0) throw new ProtocolError(1002, 'a frame with a document name and no message')
  const body = decoding.createDecoder(rest)
  const type = readUint(body, 'message type')
  switch (type) {
    case HocuspocusType.stateless:
      return { document, message: { kind: 'stateless', payload: readString(body, 'stateless payload') } }
    case HocuspocusType.close:
      return { document, message: { kind: 'close' } }
    default:
      // Sync, awareness, auth token (the provider's version string after it is ignored) and query
      // awareness read exactly as y-websocket frames; anything else is refused there.
      return { document, message: decodeClientMessage(rest) }
  }
}

/**
 * The document a frame's name addresses. A v4 provider with `sessionAwareness` names it
 * `documentName \0 sessionId` (several providers of one document on one socket); the whole name stays
 * the key its frames are routed and answered by.
 */
export function documentOfKey(key: string): string {
  const separator = key.indexOf('\0')
  return separator === -1 ? key : key.slice(0, separator)
}

/** `varString(documentName)`: the prefix of every frame for that document, built once per document. */
export function encodeDocumentName(document: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, document)
  return encoding.toUint8Array(encoder)
}

/** A y-websocket message (sync, awareness) or a body below, framed for one document. */
export function withDocumentName(prefix: Uint8Array, message: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.byteLength + message.byteLength)
  out.set(prefix, 0)
  out.set(message, prefix.byteLength)
  return out
}

function body(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

// The bodies below go after a document name (withDocumentName).

export const encodeHocuspocusAuthenticated = (scope: Scope): Uint8Array =>
  body((e) => {
    encoding.writeVarUint(e, HocuspocusType.auth)
    encoding.writeVarUint(e, HocuspocusAuthSub.authenticated)
    encoding.writeVarString(e, scope)
  })

export const encodeHocuspocusPermissionDenied = (reason: string): Uint8Array =>
  body((e) => {
    encoding.writeVarUint(e, HocuspocusType.auth)
    encoding.writeVarUint(e, HocuspocusAuthSub.permissionDenied)
    encoding.writeVarString(e, reason)
  })

/** `saved`: the client's update is applied (here: and durable); false: it was not applied (read-only). */
export const encodeSyncStatus = (saved: boolean): Uint8Array =>
  Uint8Array.of(HocuspocusType.syncStatus, saved ? 1 : 0)

export const encodeStateless = (payload: string): Uint8Array =>
  body((e) => {
    encoding.writeVarUint(e, HocuspocusType.stateless)
    encoding.writeVarString(e, payload)
  })

/** The server stops serving this document on the socket; the provider reports a close with `reason`. */
export const encodeDocumentClose = (reason: string): Uint8Array =>
  body((e) => {
    encoding.writeVarUint(e, HocuspocusType.close)
    encoding.writeVarString(e, reason)
  })

export type HocuspocusServerMessage =
  | { kind: 'sync-step1' | 'sync-step2' | 'sync-update'; payload: Uint8Array }
  | { kind: 'awareness'; update: Uint8Array }
  | { kind: 'authenticated'; scope: string }
  | { kind: 'permission-denied'; reason: string }
  | { kind: 'sync-status'; saved: boolean }
  | { kind: 'stateless'; payload: string }
  | { kind: 'close'; reason: string }
  | { kind: 'other'; type: number }

/** Reads a server frame as a client would (tests, tools). Throws on a truncated frame. */
export function decodeHocuspocusServerFrame(frame: Uint8Array): {
  document: string
  message: HocuspocusServerMessage
} {
  const decoder = decoding.createDecoder(frame)
  const document = readString(decoder, 'document name')
  const type = readUint(decoder, 'message type')
  const message = ((): HocuspocusServerMessage => {
    switch (type) {
      case HocuspocusType.sync: {
        const sub = readUint(decoder, 'sync sub-type')
        const payload = decoding.readVarUint8Array(decoder)
        const kind = sub === 0 ? 'sync-step1' : sub === 1 ? 'sync-step2' : 'sync-update'
        return { kind, payload }
      }
      case HocuspocusType.awareness:
        return { kind: 'awareness', update: decoding.readVarUint8Array(decoder) }
      case HocuspocusType.auth: {
        const sub = readUint(decoder, 'auth sub-type')
        const text = readString(decoder, 'auth text')
        return sub === HocuspocusAuthSub.authenticated
          ? { kind: 'authenticated', scope: text }
          : { kind: 'permission-denied', reason: text }
      }
      case HocuspocusType.syncStatus:
        return { kind: 'sync-status', saved: readUint(decoder, 'sync status') === 1 }
      case HocuspocusType.stateless:
        return { kind: 'stateless', payload: readString(decoder, 'stateless payload') }
      case HocuspocusType.close:
        return { kind: 'close', reason: readString(decoder, 'close reason') }
      default:
        return { kind: 'other', type }
    }
  })()
  return { document, message }
}
