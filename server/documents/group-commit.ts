// Group commit: every update received during one turn of the event loop, across all rooms, is applied
// and goes to the store in one atomic batch; only when that batch is on disk do the rooms broadcast those
// updates. Applying and writing happen in the same step, so an update waits for one turn, not two.
// One batch is in flight at a time; updates that arrive meanwhile form the next batch, so batches
// grow with load instead of queueing one write per update. An optional write window holds the first update
// of a batch that long, so sparse rooms share a write: a thread-pool round trip to LevelDB costs far more
// CPU than another entry in its batch.
// After a failed write nothing more is written until resume(): a LevelDB whose log append failed goes
// on accepting writes it loses at its next open, so every later batch fails its rooms instead.
import type { Compaction, DocumentStore, LogEntry } from '../../persistence/store.js'
import type { Metrics } from '../http/metrics.js'

/** The side of a room the committer talks to. */
export interface CommitParticipant<Origin> {
  readonly name: string
  /** Applies what the room received since its last call (appending the result); see requestApply. */
  applyQueued(): void
  /**
   * The room's changes up to `lastSeq` (its own count, see append) are durable, and the store put the last
   * of them at log position `position`; `origin` is the one sender of them all, or null.
   */
  onPersisted(lastSeq: number, position: number, updates: Uint8Array[], origin: Origin | null): void
  onPersistFailed(error: Error): void
  onCompacted(compaction: Compaction): void
}

interface PendingRoom<Origin> {
  updates: Uint8Array[]
  lastSeq: number
  origin: Origin | null
  mixedOrigins: boolean
}

/** Updates that never reached the store, by room (a room whose snapshot alone failed counts 0). */
export type Unwritten = Map<string, number>

export class GroupCommit<Origin> {
  private pending = new Map<CommitParticipant<Origin>, PendingRoom<Origin>>()
  private pendingCompactions = new Map<CommitParticipant<Origin>, Compaction>()
  private toApply = new Set<CommitParticipant<Origin>>()
  private scheduled = false
  private inFlight = false
  private idleWaiters: (() => void)[] = []
  // The write that failed, while nothing may be written (see resume).
  private halted: Error | null = null

  constructor(
    private readonly store: DocumentStore,
    private readonly metrics: Metrics,
    /** A batch failed, or was refused while halted; its rooms have been failed already. */
    private readonly onWriteFailed: (error: Error, unwritten: Unwritten) => void = () => {},
    /** Milliseconds a batch gathers updates before it is written; 0 writes in the turn they arrived. */
    private readonly windowMs = 0,
  ) {}

  /** Writes may go to the store again (it was reopened and checked). */
  resume(): void {
    this.halted = null
    if (this.pending.size > 0 || this.pendingCompactions.size > 0) this.schedule()
  }

  get busy(): boolean {
    return this.inFlight || this.scheduled || this.pending.size > 0 || this.pendingCompactions.size > 0
  }

  /** The room has received updates: it applies them in this turn's step, just before the write. */
  requestApply(room: CommitParticipant<Origin>): void {
    this.toApply.add(room)
    this.schedule()
  }

  /**
   * `seq` is the room's own count of its changes, handed back by onPersisted for its bookkeeping; the store
   * never sees it (it assigns log positions itself). `origin` is the one sender of the update, or null when
   * several clients' changes are in it.
   */
  append(room: CommitParticipant<Origin>, seq: number, update: Uint8Array, origin: Origin | null): void {
    const entry = this.pending.get(room)
    if (entry === undefined) {
      this.pending.set(room, {
        updates: [update],
        lastSeq: seq,
        origin,
        mixedOrigins: origin === null,
      })
    } else {
      entry.updates.push(update)
      entry.lastSeq = seq
      if (entry.origin !== origin) entry.mixedOrigins = true
    }
    // While a batch is in flight, its completion writes this one (afterBatch).
    if (!this.inFlight) this.schedule()
  }

  /** Writes the snapshot in the next batch, after every update already appended. */
  compact(room: CommitParticipant<Origin>, compaction: Compaction): void {
    this.pendingCompactions.set(room, compaction)
    if (!this.inFlight) this.schedule()
  }

  /** Resolves once everything appended so far is written (or has failed). */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    if (this.windowMs > 0) setTimeout(() => this.step(), this.windowMs)
    else setImmediate(() => this.step())
  }

  /** One turn's step: every room applies what it received (still `scheduled`, so appends join), then write. */
  private step(): void {
    if (this.toApply.size > 0) {
      const rooms = this.toApply
      this.toApply = new Set()
      for (const room of rooms) room.applyQueued()
    }
    this.flush()
  }

  private flush(): void {
    this.scheduled = false
    if (this.inFlight) return
    if (this.pending.size === 0 && this.pendingCompactions.size === 0) {
      this.notifyIdle()
      return
    }
    const rooms = this.pending
    const compactions = this.pendingCompactions
    this.pending = new Map()
    this.pendingCompactions = new Map()
    if (this.halted !== null) {
      this.fail(this.halted, [rooms], [compactions])
      this.notifyIdle()
      return
    }
    const appends: LogEntry[] = []
    for (const [room, entry] of rooms) {
      for (const update of entry.updates) appends.push({ room: room.name, update })
    }
    this.inFlight = true
    const started = performance.now()
    this.store.write({ appends, compactions: [...compactions.values()] }).then(
      ({ positions }) => {
        this.metrics.persistLatency.observe(performance.now() - started)
        this.metrics.persistBatches++
        this.metrics.updatesPersisted += appends.length
        this.metrics.compactions += compactions.size
        this.inFlight = false
        // Appends went in room by room, in this order: each room's last one ends its run of positions.
        let end = 0
        for (const [room, entry] of rooms) {
          end += entry.updates.length
          const origin = entry.mixedOrigins ? null : entry.origin
          room.onPersisted(entry.lastSeq, positions[end - 1], entry.updates, origin)
        }
        for (const [room, compaction] of compactions) room.onCompacted(compaction)
        this.afterBatch()
      },
      (error: Error) => {
        this.metrics.persistFailures++
        this.inFlight = false
        this.halted = error
        // What arrived during the write would go to the same broken store: it fails with this batch.
        const later = this.pending
        const laterCompactions = this.pendingCompactions
        this.pending = new Map()
        this.pendingCompactions = new Map()
        this.fail(error, [rooms, later], [compactions, laterCompactions])
        this.notifyIdle()
      },
    )
  }

  private fail(
    error: Error,
    appends: Map<CommitParticipant<Origin>, PendingRoom<Origin>>[],
    compactions: Map<CommitParticipant<Origin>, Compaction>[],
  ): void {
    const unwritten: Unwritten = new Map()
    const failed = new Set<CommitParticipant<Origin>>()
    for (const batch of compactions) {
      for (const room of batch.keys()) {
        failed.add(room)
        if (!unwritten.has(room.name)) unwritten.set(room.name, 0)
      }
    }
    for (const batch of appends) {
      for (const [room, entry] of batch) {
        failed.add(room)
        unwritten.set(room.name, (unwritten.get(room.name) ?? 0) + entry.updates.length)
      }
    }
    for (const room of failed) room.onPersistFailed(error)
    this.onWriteFailed(error, unwritten)
  }

  private afterBatch(): void {
    // What arrived during the write is the next batch: write it now rather than wait another turn.
    if (this.pending.size > 0 || this.pendingCompactions.size > 0) this.flush()
    else this.notifyIdle()
  }

  private notifyIdle(): void {
    if (this.busy) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
  }
}
