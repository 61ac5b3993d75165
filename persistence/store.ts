// The storage interface every backend implements. Rooms are an append-only log of Yjs updates plus a
// compacted snapshot; the server decides when to append and when to compact, a store only keeps bytes.

/** What a store holds for one room, in the order it must be applied. */
export interface StoredRoom {
  /** False when the room has never been written. */
  exists: boolean
  /** The compacted state, or null when the room was never compacted. */
  snapshot: Uint8Array | null
  /** Updates appended after the snapshot, oldest first. */
  updates: Uint8Array[]
  /** Sequence number of the last update in the log (or covered by the snapshot); 0 for a new room. */
  lastSeq: number
  /** Sequence number of the first update in `updates` (lastSeq + 1 when the log is empty). */
  firstSeq: number
  /** Bytes in `updates`, so the caller can decide when to compact. */
  logBytes: number
}

export interface LogEntry {
  room: string
  seq: number
  update: Uint8Array
}

/** Replaces the log entries fromSeq..throughSeq of a room with a snapshot of the whole document. */
export interface Compaction {
  room: string
  snapshot: Uint8Array
  fromSeq: number
  throughSeq: number
}

/** One atomic write: either all of it is on disk afterwards, or none of it. */
export interface WriteBatch {
  appends: LogEntry[]
  compactions: Compaction[]
}

export interface DocumentStore {
  open(): Promise<void>
  load(room: string): Promise<StoredRoom>
  write(batch: WriteBatch): Promise<void>
  /** Room names in order, at most `limit`, starting after `after` (for paging). */
  listRooms(options?: { after?: string; limit?: number }): Promise<string[]>
  hasRoom(room: string): Promise<boolean>
  deleteRoom(room: string): Promise<void>
  /**
   * Writes a small record durably (fsync) and reads it back; rejects when storage cannot keep a write.
   * The server calls it after reopening a store whose write failed, before it trusts the store again.
   */
  checkWritable(): Promise<void>
  close(): Promise<void>
  readonly isOpen: boolean
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
