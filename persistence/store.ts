// The storage contract every backend implements. A room is a log of Yjs updates plus at most one
// snapshot; the server decides when to append and when to compact, a store keeps bytes and orders them.
// Several writers (nodes of a cluster) may share one database: the store, not the caller, gives each
// entry its position, and a compaction names the position it covers, so neither depends on what one
// writer remembers. persistence/contract.ts is the suite every backend must pass.

/** What a store holds for one room, in the order it must be applied. */
export interface StoredRoom {
  /** False when the room has never been written (or was deleted). */
  exists: boolean
  /** The compacted state, or null when the room was never compacted. */
  snapshot: Uint8Array | null
  /** Every entry after the snapshot's position, oldest first. */
  updates: Uint8Array[]
  /**
   * The position of the last entry in `updates`, or the one the snapshot covers when there are none; 0 for
   * a room never written. A snapshot of what was loaded covers the log through this position.
   */
  position: number
  /** Bytes in `updates`, so the caller can decide when to compact. */
  logBytes: number
}

/** One update to append to a room's log; the store decides its position. */
export interface LogEntry {
  room: string
  update: Uint8Array
}

/**
 * "This snapshot covers the log of `room` up to and including position `through`": the store replaces
 * every entry at or before it with the snapshot and keeps every entry after it, including entries another
 * writer appended after the snapshot was encoded. `through` is a position this store returned (from
 * `write` or `load`) whose entries, and all before them, are in the snapshot. A compaction whose position
 * is before the stored snapshot's changes nothing (a newer snapshot is already there), so repeating one is
 * harmless.
 */
export interface Compaction {
  room: string
  snapshot: Uint8Array
  through: number
}

/**
 * One atomic write: either all of it is stored afterwards, or none of it. Compactions apply before the
 * appends of the same batch, so an entry appended in a batch is never covered by a compaction in it.
 */
export interface WriteBatch {
  appends: LogEntry[]
  compactions: Compaction[]
}

export interface WriteResult {
  /**
   * `positions[i]` is where `appends[i]` went. A room's positions increase strictly in append order,
   * across batches and writers; they need not be consecutive.
   */
  positions: number[]
}

export interface ListOptions {
  /** Only names after this one (it need not be a stored room): the last name of the previous page. */
  after?: string
  limit?: number
}

/**
 * A named version of a room: a full Yjs snapshot of its document, kept apart from the log, so no
 * compaction touches it. Only deleteRoom removes it.
 */
export interface StoredVersion {
  /** Unique within the room; no control characters (the caller chooses it). */
  id: string
  name: string
  /** Milliseconds since the epoch. */
  createdAt: number
  /** The user id that asked for it; null for the server or an operator. */
  createdBy: string | null
  /** The document as one Yjs update. */
  snapshot: Uint8Array
}

/** A version without its snapshot, for listing: `size` is the snapshot's bytes. */
export interface VersionInfo {
  id: string
  name: string
  createdAt: number
  createdBy: string | null
  size: number
}

/**
 * What a store knows about a room without reading its document (describeRooms). Null when it does not
 * know, e.g. for a room last written by an older plait, which kept no such record.
 */
export interface RoomInfo {
  /** Bytes the room's document takes in storage: its snapshot plus its log. */
  bytes: number | null
  /** Milliseconds since the epoch of the last write that changed the room (appended to its log). */
  lastChange: number | null
}

export interface DocumentStore {
  open(): Promise<void>
  /** The room's snapshot and every entry after its position, read as of one moment (never half a batch). */
  load(room: string): Promise<StoredRoom>
  /** Stores the batch atomically; rejects with a StoreError, having stored nothing of it. */
  write(batch: WriteBatch): Promise<WriteResult>
  /**
   * Names of the rooms that exist, in UTF-8 byte order (code point order, see compareRoomNames), at
   * most `limit`, after `after`. A room exists once any batch appended to or compacted it, until
   * deleteRoom; which writer did so, and what it remembers, makes no difference.
   */
  listRooms(options?: ListOptions): Promise<string[]>
  hasRoom(room: string): Promise<boolean>
  /**
   * What the store keeps about each of these rooms, cheaply (it reads no document): for listing a page of
   * rooms with their size and last change. A room that does not exist is absent from the map.
   */
  describeRooms(rooms: readonly string[]): Promise<Map<string, RoomInfo>>
  /** Removes the room's snapshot, log, name and versions; the next append starts it again. */
  deleteRoom(room: string): Promise<void>
  /**
   * Stores a version of the room (replacing one with the same id). It does not make the room exist, and
   * neither writes nor compactions of the room change it.
   */
  saveVersion(room: string, version: StoredVersion): Promise<void>
  /** The room's versions, newest first (by createdAt, then by id descending); [] for none. */
  listVersions(room: string): Promise<VersionInfo[]>
  /** One version with its snapshot; null when the room has no version with that id. */
  loadVersion(room: string, id: string): Promise<StoredVersion | null>
  /**
   * Writes a small record durably and reads it back; rejects when storage cannot keep a write.
   * The server calls it after reopening a store whose write failed, before it trusts the store again.
   */
  checkWritable(): Promise<void>
  /** After close, open() again gives the same data (the server reopens a store whose write failed). */
  close(): Promise<void>
  readonly isOpen: boolean
}

/** Why `id` cannot name a version (null: it can): ids are non-empty and hold no control characters. */
export function versionIdProblem(id: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL separates the fields of a LevelDB key
  if (id === '' || /[\u0000-\u001f\u007f]/.test(id))
    return 'a version id is non-empty text without control characters'
  return null
}

/** listVersions' order: newest first, ties by id descending, so the order is total. */
export function newestFirst(a: VersionInfo, b: VersionInfo): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0
}

/** A store failure with a sentence a person can act on. */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly code: 'locked' | 'corrupt' | 'io',
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'StoreError'
  }
}

/**
 * The order listRooms promises: UTF-8 byte order, which is code point order. JavaScript's `<` compares
 * UTF-16 units instead, which puts U+E000-U+FFFF after every character above the BMP.
 */
export function compareRoomNames(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; ) {
    const x = a.codePointAt(i) ?? 0
    const y = b.codePointAt(i) ?? 0
    if (x !== y) return x - y
    i += x > 0xffff ? 2 : 1
  }
  return a.length - b.length
}
