// The on-disk layout of a LevelStore directory. Every data directory plait ever wrote uses it, so it
// changes only together with a reader for what came before.
//
// Keys (room names never contain control characters, so NUL separates fields unambiguously):
//   r\0<room>            the room exists (an index, so listing rooms never scans the logs); its value
//                        is the room's size and last change (room-info.ts), empty when unknown
//   s\0<room>            snapshot: [format 1][varUint position it covers through][Yjs update]
//   l\0<room>\0<pos>     one log entry; its position as 12 hex digits, so keys sort in append order
//   p\0probe             written by checkWritable (outside every room's ranges)
//   v\0<room>\0<id>      a named version's info, V\0<room>\0<id> its snapshot (see version-keys.ts)

import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

const SNAPSHOT_FORMAT = 1
const POSITION_DIGITS = 12

export const ROOMS_START = 'r\0'
export const ROOMS_END = 'r\u0001'
export const PROBE_KEY = 'p\0probe'

export const roomKey = (room: string) => `r\0${room}`
export const snapshotKey = (room: string) => `s\0${room}`
export const logPrefix = (room: string) => `l\0${room}\0`
/** Above every log key of the room (positions are hex digits). */
export const logEnd = (room: string) => `${logPrefix(room)}\uffff`
export const logKey = (room: string, position: number) =>
  logPrefix(room) + position.toString(16).padStart(POSITION_DIGITS, '0')
export const positionOf = (room: string, key: string) =>
  Number.parseInt(key.slice(logPrefix(room).length), 16)

export function encodeSnapshot(through: number, update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeUint8(encoder, SNAPSHOT_FORMAT)
  encoding.writeVarUint(encoder, through)
  encoding.writeUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

export function decodeSnapshot(bytes: Uint8Array): { through: number; update: Uint8Array } {
  const decoder = decoding.createDecoder(bytes)
  const format = decoding.readUint8(decoder)
  if (format !== SNAPSHOT_FORMAT) throw new Error(`unknown snapshot format ${format}`)
  const through = decoding.readVarUint(decoder)
  return { through, update: decoding.readTailAsUint8Array(decoder) }
}
