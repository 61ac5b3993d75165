// The value of a room's index key (r\0<room>, see format.ts): what describeRooms reports without reading
// the room. [format 1][varUint bytes][varUint lastChange ms, 0 for unknown]. An empty value, as every
// directory written before this format has, means unknown; so does a format this version does not know.

import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { RoomInfo } from '../store.js'

const ROOM_INFO_FORMAT = 1
const UNKNOWN: RoomInfo = { bytes: null, lastChange: null }

export function encodeRoomInfo(bytes: number, lastChange: number | null): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeUint8(encoder, ROOM_INFO_FORMAT)
  encoding.writeVarUint(encoder, bytes)
  // Unknown for a room last appended to by an older plait and only compacted since.
  encoding.writeVarUint(encoder, lastChange ?? 0)
  return encoding.toUint8Array(encoder)
}

export function decodeRoomInfo(value: Uint8Array): RoomInfo {
  if (value.byteLength === 0 || value[0] !== ROOM_INFO_FORMAT) return { ...UNKNOWN }
  try {
    const decoder = decoding.createDecoder(value)
    decoding.readUint8(decoder)
    const bytes = decoding.readVarUint(decoder)
    const lastChange = decoding.readVarUint(decoder)
    return { bytes, lastChange: lastChange === 0 ? null : lastChange }
  } catch {
    // A record cut short is advisory data lost, not a document lost: report it as unknown.
    return { ...UNKNOWN }
  }
}
