// Frames the load generator sends and reads, as pure functions (y-websocket framing; Hocuspocus adds a
// varString(documentName) prefix to every frame and wants an auth message first).
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export const messageSync = 0
export const messageAwareness = 1
export const messageAuth = 2

export const syncStep1 = 0
export const syncStep2 = 1
export const syncUpdate = 2

/** How a target frames messages: y-websocket style (no prefix) or Hocuspocus style (document name first). */
export interface Framing {
  /** Document name written before every frame, or null for y-websocket framing. */
  readonly prefix: string | null
}

function start(framing: Framing, type: number): encoding.Encoder {
  const encoder = encoding.createEncoder()
  if (framing.prefix !== null) encoding.writeVarString(encoder, framing.prefix)
  encoding.writeVarUint(encoder, type)
  return encoder
}

export function encodeSync(framing: Framing, sub: number, payload: Uint8Array): Uint8Array {
  const encoder = start(framing, messageSync)
  encoding.writeVarUint(encoder, sub)
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

/** `[2][0][varString token]`: the token message Hocuspocus (and plait with auth on) waits for. */
export function encodeAuthToken(framing: Framing, token: string): Uint8Array {
  const encoder = start(framing, messageAuth)
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarString(encoder, token)
  return encoding.toUint8Array(encoder)
}

/** The head of a received frame: its type, the sync sub-type when it is a sync frame, and where the body starts. */
export interface FrameHead {
  type: number
  /** Sync sub-type (0, 1, 2) for sync frames, -1 otherwise. */
  sub: number
  /** Offset of the body after type (and sub for sync frames). */
  offset: number
}

export function readFrameHead(framing: Framing, frame: Uint8Array): FrameHead {
  const decoder = decoding.createDecoder(frame)
  if (framing.prefix !== null) decoding.readVarString(decoder)
  const type = decoding.readVarUint(decoder)
  let sub = -1
  if (type === messageSync) sub = decoding.readVarUint(decoder)
  return { type, sub, offset: decoder.pos }
}

/** The payload of a sync frame whose body starts at `offset` (the varUint8Array after the sub-type). */
export function readSyncPayload(frame: Uint8Array, offset: number): Uint8Array {
  const decoder = decoding.createDecoder(frame)
  decoder.pos = offset
  return decoding.readVarUint8Array(decoder)
}

/**
 * Where a received sync frame's payload (the varUint8Array after type and sub-type) starts and which
 * sub-type it has, without allocating: `(offset << 2) | sub`, or -1 for any frame that is not sync
 * step 1, step 2 or update (awareness, auth, malformed).
 */
export function syncFrameHead(framing: Framing, frame: Uint8Array): number {
  let pos = 0
  if (framing.prefix !== null) {
    // varString(documentName): a varUint byte length, then the bytes.
    let length = 0
    let shift = 1
    for (;;) {
      if (pos >= frame.length || shift > 2 ** 28) return -1
      const b = frame[pos++]
      length += (b & 0x7f) * shift
      if (b < 0x80) break
      shift *= 128
    }
    pos += length
  }
  // Message types and sync sub-types are small numbers: one varUint byte each.
  if (pos + 1 >= frame.length || frame[pos] !== messageSync) return -1
  const sub = frame[pos + 1]
  if (sub !== syncStep1 && sub !== syncStep2 && sub !== syncUpdate) return -1
  return ((pos + 2) << 2) | sub
}
