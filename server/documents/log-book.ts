// What one room has in storage, in numbers: where its log starts, how many entries and bytes follow its
// snapshot, and the snapshot's size. From these come the compaction policy and the document's size
// (the --max-document-size check), without reading storage.
import type { Compaction, StoredRoom } from '../../persistence/store.js'

export interface CompactionLimits {
  compactEntries: number
  compactBytes: number
}

export class LogBook {
  firstSeq = 1
  entries = 0
  bytes = 0
  snapshotBytes = 0
  private compacting: { entries: number; bytes: number } | null = null

  loaded(stored: StoredRoom): void {
    this.firstSeq = stored.firstSeq
    this.entries = stored.updates.length
    this.bytes = stored.logBytes
    this.snapshotBytes = stored.snapshot?.byteLength ?? 0
  }

  appended(bytes: number): void {
    this.entries++
    this.bytes += bytes
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

  /** Starts a compaction of the whole log up to `throughSeq`; null when there is nothing to compact. */
  startCompaction(room: string, snapshot: () => Uint8Array, throughSeq: number): Compaction | null {
    if (this.compacting !== null || this.entries === 0) return null
    this.compacting = { entries: this.entries, bytes: this.bytes }
    return { room, snapshot: snapshot(), fromSeq: this.firstSeq, throughSeq }
  }

  compacted(compaction: Compaction): void {
    const done = this.compacting
    this.compacting = null
    if (done) {
      this.entries -= done.entries
      this.bytes -= done.bytes
    }
    this.firstSeq = compaction.throughSeq + 1
    this.snapshotBytes = compaction.snapshot.byteLength
  }
}
