// Where a LevelStore room's log stands, the cache of it LevelStore keeps per room (KnownEnds), and the one
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

// Rooms whose log ends are kept in memory at most; past it the oldest is read again when next written.
const REMEMBERED_ROOMS = 100_000

/**
 * Each room's log end, so an append reads nothing. This is right only because a LevelDB directory has one
 * writer by construction (its LOCK file refuses a second process) and the store's writes run one at a time:
 * nobody else can move a log end. A backend several nodes share must let the database assign positions
 * instead.
 */
export class KnownEnds {
  private readonly ends = new Map<string, LogEnds>()
  // Counts entries leaving the cache, so a load that raced a delete does not put back what it read before.
  private forgotten = 0

  /** A token that changes whenever an entry leaves; see rememberIfUnchanged. */
  get generation(): number {
    return this.forgotten
  }

  get(room: string): LogEnds | undefined {
    return this.ends.get(room)
  }

  remember(room: string, end: LogEnds): void {
    this.ends.set(room, end)
    if (this.ends.size > REMEMBERED_ROOMS) this.forget(this.ends.keys().next().value as string)
  }

  /** Remembers what a load read, unless an entry left since `generation` or the room is known already. */
  rememberIfUnchanged(generation: number, room: string, end: LogEnds): void {
    if (generation === this.forgotten && !this.ends.has(room)) this.remember(room, end)
  }

  forget(room: string): void {
    this.ends.delete(room)
    this.forgotten++
  }

  forgetAll(): void {
    this.ends.clear()
    this.forgotten++
  }
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
