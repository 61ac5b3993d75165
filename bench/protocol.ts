// Frames the load generator sends and reads. The messages are server/protocol's, the one copy of the wire
// contract; this adds only Hocuspocus' framing (a varString(documentName) prefix on every frame) and a
// non-allocating read of received sync frames for the generator's hot path.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import {
  encodeAuthToken as encodeAuthTokenMessage,
  encodeAwareness as encodeAwarenessMessage,
  encodeSync as encodeSyncMessage,
  MessageType,
  SyncSub,
  type SyncSubType,
} from '../server/protocol/messages.js'

/** How a target frames messages: y-websocket style (no prefix) or Hocuspocus style (document name first). */
export interface Framing {
  /** Document name written before every frame, or null for y-websocket framing. */
  readonly prefix: string | null
}

/** `message` as `framing` sends it: unchanged, or after varString(documentName). */
function framed(framing: Framing, message: Uint8Array): Uint8Array {
  if (framing.prefix === null) return message
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, framing.prefix)
  encoding.writeUint8Array(encoder, message)
  return encoding.toUint8Array(encoder)
}

export function encodeSync(framing: Framing, sub: SyncSubType, payload: Uint8Array): Uint8Array {
  return framed(framing, encodeSyncMessage(sub, payload))
}

/** `[2][0][varString token]`: the token message Hocuspocus (and plait with auth on) waits for. */
export function encodeAuthToken(framing: Framing, token: string): Uint8Array {
  return framed(framing, encodeAuthTokenMessage(token))
}

/** `[1][varUint8Array(update)]`: an awareness update as `framing` sends it. */
export function encodeAwareness(framing: Framing, update: Uint8Array): Uint8Array {
  return framed(framing, encodeAwarenessMessage(update))
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
  const pos = bodyStart(framing, frame)
  if (pos === -1) return -1
  // Message types and sync sub-types are small numbers: one varUint byte each.
  if (pos + 1 >= frame.length || frame[pos] !== MessageType.sync) return -1
  const sub = frame[pos + 1]
  if (sub !== SyncSub.step1 && sub !== SyncSub.step2 && sub !== SyncSub.update) return -1
  return ((pos + 2) << 2) | sub
}

/** Where the awareness update (its varUint8Array) of a received awareness frame starts, or -1 for any other frame. */
export function awarenessFrameOffset(framing: Framing, frame: Uint8Array): number {
  const pos = bodyStart(framing, frame)
  if (pos === -1 || pos >= frame.length || frame[pos] !== MessageType.awareness) return -1
  return pos + 1
}

/** Where the message starts after Hocuspocus' varString(documentName), without allocating; -1 if malformed. */
function bodyStart(framing: Framing, frame: Uint8Array): number {
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
  return pos
}
