// What one room has in storage, in numbers: the log position its stored changes reach, how many entries
// and bytes follow its snapshot, and the snapshot's size. From these come the compaction policy and the
// document's size (the --max-document-size check), without reading storage. Positions are the store's
// (it orders each room's log); the room's own counters of applied and durable changes are elsewhere
// (durability.ts).
import type { Compaction, StoredRoom } from '../../persistence/store.js'

export interface CompactionLimits {
  compactEntries: number
  compactBytes: number
}

export class LogBook {
  /** The log position of the last change the store confirmed (or load read): what a snapshot covers. */
  storedPosition = 0
  /**
   * Other writers append to the same log (a cluster): a position the store gives this room's own write
   * may follow entries this room has not applied yet, so only the log's follower moves storedPosition,
   * once every entry up to it is applied (followed).
   */
  shared = false
  entries = 0
  bytes = 0
  snapshotBytes = 0
  // Changes applied but not yet durable: counted in entries and bytes, but not covered by storedPosition.
  private unwrittenEntries = 0
  private unwrittenBytes = 0
  private compacting: { entries: number; bytes: number } | null = null

  loaded(stored: StoredRoom): void {
    this.storedPosition = stored.position
    this.entries = stored.updates.length
    this.bytes = stored.logBytes
    this.snapshotBytes = stored.snapshot?.byteLength ?? 0
  }

  appended(bytes: number): void {
    this.entries++
    this.bytes += bytes
    this.unwrittenEntries++
    this.unwrittenBytes += bytes
  }

  /** The store put these updates, the last of them at `position`. */
  persisted(position: number, updates: Uint8Array[]): void {
    if (!this.shared) this.storedPosition = position
    this.unwrittenEntries -= updates.length
    for (const update of updates) this.unwrittenBytes -= update.byteLength
  }

  /** Every entry through `position` is applied here; `others` are the ones other writers appended. */
  followed(position: number, others: readonly Uint8Array[]): void {
    if (position > this.storedPosition) this.storedPosition = position
    this.entries += others.length
    for (const update of others) this.bytes += update.byteLength
  }

  /** The shared log starts again at `position` (Redis lost what followed it): nothing after is covered. */
  restartedAt(position: number): void {
    this.storedPosition = position
  }

  /** The stored document's size: its snapshot and the log after it (what compaction shrinks). */
  get storedBytes(): number {
    return this.snapshotBytes + this.bytes
  }

  get isCompacting(): boolean {
    return this.compacting !== null
  }

  /**
   * Rewriting the snapshot costs its size, so a big document waits until its log is a quarter of it:
   * compaction stays a constant factor of the bytes written, not a full rewrite every N small edits.
   */
  wantsCompaction(limits: CompactionLimits): boolean {
    if (this.compacting !== null) return false
    const enoughEntries = this.entries >= limits.compactEntries && this.bytes >= this.snapshotBytes / 4
    return enoughEntries || this.bytes >= limits.compactBytes
  }

  /**
   * Starts a compaction of the log through the stored position; null when there is nothing to compact.
   * The snapshot also holds changes applied but not yet durable, whose positions the store has not given
   * yet: their entries stay after `through` (applying one twice is harmless in Yjs) for the next one.
   */
  startCompaction(room: string, snapshot: () => Uint8Array): Compaction | null {
    if (this.compacting !== null || this.entries === 0) return null
    this.compacting = {
      entries: this.entries - this.unwrittenEntries,
      bytes: this.bytes - this.unwrittenBytes,
    }
    return { room, snapshot: snapshot(), through: this.storedPosition }
  }

  compacted(compaction: Compaction): void {
    const done = this.compacting
    this.compacting = null
    if (done) {
      this.entries -= done.entries
      this.bytes -= done.bytes
    }
    this.snapshotBytes = compaction.snapshot.byteLength
  }
}
