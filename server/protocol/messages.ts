// The wire contract (docs/PROTOCOL.md) as pure functions: one y-protocols message per frame.
// Nothing here touches a socket, so every frame can be built and read in a unit test.
// The one copy of the contract for the server, client/ (browsers and Node), the demo, bench/ and test/:
// it may import only lib0 and the other files of server/protocol, nothing from Node or the server.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export const MessageType = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3 } as const
export const SyncSub = { step1: 0, step2: 1, update: 2 } as const
/** Auth sub 0 is the token from a client and permission-denied from the server: the direction tells them apart. */
export const AuthSub = { token: 0, permissionDenied: 0, authenticated: 2 } as const

export type SyncSubType = (typeof SyncSub)[keyof typeof SyncSub]

/** What an admitted socket may do (Hocuspocus' strings). */
export type Scope = 'read-write' | 'readonly'

/** Sync messages look the same in both directions. */
export type SyncMessage =
  | { kind: 'sync-step1'; stateVector: Uint8Array }
  | { kind: 'sync-step2'; update: Uint8Array }
  | { kind: 'sync-update'; update: Uint8Array }

export type ClientMessage =
  | SyncMessage
  | { kind: 'awareness'; update: Uint8Array }
  | { kind: 'auth-token'; token: string }
  | { kind: 'query-awareness' }

export type ServerMessage =
  | SyncMessage
  | { kind: 'awareness'; update: Uint8Array }
  | { kind: 'permission-denied'; reason: string }
  | { kind: 'authenticated'; scope: Scope }

/** A frame the server cannot accept; `code` is the WebSocket close code to answer with. */
export class ProtocolError extends Error {
  constructor(
    readonly code: 1002 | 1007,
    message: string,
  ) {
    super(message)
    this.name = 'ProtocolError'
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

export function readUint(decoder: decoding.Decoder, what: string): number {
  try {
    return decoding.readVarUint(decoder)
  } catch {
    throw new ProtocolError(1007, `truncated or oversized varint in ${what}`)
  }
}

// lib0's readVarUint8Array does not check the length against the frame: a lying length would read
// bytes of an unrelated message that share the socket's receive buffer.
function readBytes(decoder: decoding.Decoder, what: string): Uint8Array {
  const length = readUint(decoder, what)
  const available = decoder.arr.length - decoder.pos
  if (length > available) {
    throw new ProtocolError(1007, `${what} claims ${length} bytes but the frame has ${available}`)
  }
  return decoding.readUint8Array(decoder, length)
}

export function readString(decoder: decoding.Decoder, what: string): string {
  const bytes = readBytes(decoder, what)
  try {
    return utf8.decode(bytes)
  } catch {
    throw new ProtocolError(1007, `${what} is not valid UTF-8`)
  }
}

/** The sync message of a frame whose type varint has been read; shared by both directions. */
function readSync(decoder: decoding.Decoder): SyncMessage {
  const sub = readUint(decoder, 'sync sub-type')
  if (sub === SyncSub.step1) return { kind: 'sync-step1', stateVector: readBytes(decoder, 'state vector') }
  if (sub === SyncSub.step2) return { kind: 'sync-step2', update: readBytes(decoder, 'sync step 2') }
  if (sub === SyncSub.update) return { kind: 'sync-update', update: readBytes(decoder, 'update') }
  throw new ProtocolError(1002, `unknown sync sub-type ${sub}`)
}

/** Reads a frame's type; sync and awareness messages read the same both ways, `rest` reads the others. */
function decodeMessage<M>(
  frame: Uint8Array,
  rest: (type: number, decoder: decoding.Decoder) => M,
): SyncMessage | { kind: 'awareness'; update: Uint8Array } | M {
  if (frame.length === 0) throw new ProtocolError(1002, 'empty frame')
  const decoder = decoding.createDecoder(frame)
  const type = readUint(decoder, 'message type')
  if (type === MessageType.sync) return readSync(decoder)
  if (type === MessageType.awareness)
    return { kind: 'awareness', update: readBytes(decoder, 'awareness update') }
  return rest(type, decoder)
}

/** Decodes the one message of a client frame. Throws ProtocolError on anything malformed. */
export function decodeClientMessage(frame: Uint8Array): ClientMessage {
  return decodeMessage(frame, (type, decoder): ClientMessage => {
    if (type === MessageType.queryAwareness) return { kind: 'query-awareness' }
    if (type !== MessageType.auth) throw new ProtocolError(1002, `unknown message type ${type}`)
    const sub = readUint(decoder, 'auth sub-type')
    if (sub !== AuthSub.token) throw new ProtocolError(1002, `unexpected auth sub-type ${sub} from a client`)
    return { kind: 'auth-token', token: readString(decoder, 'token') }
  })
}

/**
 * Decodes the one message of a server frame (what a client reads). Throws ProtocolError on anything
 * malformed, including a scope other than the two the server grants.
 */
export function decodeServerMessage(frame: Uint8Array): ServerMessage {
  return decodeMessage(frame, (type, decoder): ServerMessage => {
    if (type !== MessageType.auth) throw new ProtocolError(1002, `unknown message type ${type}`)
    const sub = readUint(decoder, 'auth sub-type')
    if (sub === AuthSub.permissionDenied)
      return { kind: 'permission-denied', reason: readString(decoder, 'reason') }
    if (sub !== AuthSub.authenticated)
      throw new ProtocolError(1002, `unknown auth sub-type ${sub} from the server`)
    const scope = readString(decoder, 'scope')
    if (scope === 'read-write' || scope === 'readonly') return { kind: 'authenticated', scope }
    throw new ProtocolError(1007, `unknown scope ${JSON.stringify(scope.slice(0, 32))}`)
  })
}

function frame(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** Bytes of `n` as a lib0 varUint. */
export function varUintLength(n: number): number {
  let length = 1
  while (n > 0x7f) {
    n = Math.floor(n / 128)
    length++
  }
  return length
}

/** Writes `n` as a lib0 varUint at `pos`; returns the position after it. */
export function writeVarUint(buf: Uint8Array, pos: number, n: number): number {
  while (n > 0x7f) {
    buf[pos++] = 0x80 | (n & 0x7f)
    n = Math.floor(n / 128)
  }
  buf[pos++] = n
  return pos
}

/**
 * [0][sub][varUint length][payload] in one exact allocation and one copy of the payload (a lib0 encoder
 * grows by doubling and copies again in toUint8Array: 5 ms for a 0.5 MB first sync on a slow host).
 */
export function encodeSync(sub: SyncSubType, payload: Uint8Array): Uint8Array {
  const length = payload.byteLength
  const headerLength = 2 + varUintLength(length)
  const out = new Uint8Array(headerLength + length)
  out[0] = MessageType.sync
  out[1] = sub
  writeVarUint(out, 2, length)
  out.set(payload, headerLength)
  return out
}

export const encodeSyncStep1 = (stateVector: Uint8Array): Uint8Array => encodeSync(SyncSub.step1, stateVector)
export const encodeSyncStep2 = (update: Uint8Array): Uint8Array => encodeSync(SyncSub.step2, update)
export const encodeUpdate = (update: Uint8Array): Uint8Array => encodeSync(SyncSub.update, update)

export const encodeAwareness = (awarenessUpdate: Uint8Array): Uint8Array =>
  frame((e) => {
    encoding.writeVarUint(e, MessageType.awareness)
    encoding.writeVarUint8Array(e, awarenessUpdate)
  })

export const encodeQueryAwareness = (): Uint8Array =>
  frame((e) => encoding.writeVarUint(e, MessageType.queryAwareness))

/** The first frame of a client when auth is on: `[2][0][varString token]`. The only token encoder. */
export const encodeAuthToken = (token: string): Uint8Array =>
  frame((e) => {
    encoding.writeVarUint(e, MessageType.auth)
    encoding.writeVarUint(e, AuthSub.token)
    encoding.writeVarString(e, token)
  })

export const encodeAuthenticated = (scope: Scope): Uint8Array =>
  frame((e) => {
    encoding.writeVarUint(e, MessageType.auth)
    encoding.writeVarUint(e, AuthSub.authenticated)
    encoding.writeVarString(e, scope)
  })

export const encodePermissionDenied = (reason: string): Uint8Array =>
  frame((e) => {
    encoding.writeVarUint(e, MessageType.auth)
    encoding.writeVarUint(e, AuthSub.permissionDenied)
    encoding.writeVarString(e, reason)
  })
