// Where a LevelStore room's log stands, as LevelStore caches it per room (see its `ends`), and the one
// read from disk that builds it for a room the store has not read or written since it opened.

import type { Level as LevelType } from 'level'
import { StoreError } from '../store.js'
import { decodeSnapshot, logEnd, logPrefix, positionOf, roomKey, snapshotKey } from './format.js'
import { decodeRoomInfo } from './room-info.js'

/** Where a room's log stands, and what its index key records (room-info.ts). */
export interface LogEnds {
  /** The position the room's next append gets. */
  next: number
  /** The position the stored snapshot covers through; -1 without one. */
  snapshotThrough: number
  /** Bytes of every stored log entry's value, and of the stored snapshot's (encoded, 0 without one). */
  logBytes: number
  snapshotBytes: number
  /** When a batch last appended to the room (ms); null when unknown. */
  lastChange: number | null
}

// Every room of a batch is in its map of log ends before anything reads one.
export const endOf = (ends: Map<string, LogEnds>, room: string) => ends.get(room) as LogEnds

/** The stored snapshot's value decoded, or a StoreError naming the room. */
export function snapshotOf(room: string, bytes: Uint8Array): { through: number; update: Uint8Array } {
  try {
    return decodeSnapshot(bytes)
  } catch (error) {
    throw new StoreError(`the stored snapshot of room "${room}" is unreadable`, 'corrupt', { cause: error })
  }
}

/** A room's log end from disk; it reads the log's values once, to count the bytes they take. */
export async function readEnds(db: LevelType<string, Uint8Array>, room: string): Promise<LogEnds> {
  const [stored, indexed] = await db.getMany([snapshotKey(room), roomKey(room)])
  const snapshotThrough = stored === undefined ? -1 : snapshotOf(room, stored).through
  let last = 0
  let logBytes = 0
  for await (const [key, value] of db.iterator({ gte: logPrefix(room), lt: logEnd(room) })) {
    last = positionOf(room, key)
    logBytes += value.byteLength
  }
  return {
    next: Math.max(last, snapshotThrough, 0) + 1,
    snapshotThrough,
    logBytes,
    snapshotBytes: stored?.byteLength ?? 0,
    lastChange: indexed === undefined ? null : decodeRoomInfo(indexed).lastChange,
  }
}
