// One document in memory: its Y.Doc, the members in it, and the rule that nothing a member sends reaches
// anyone else before it is durable. The parts live beside it: durability.ts (what waits for the disk),
// broadcaster.ts (pacing), awareness-relay.ts, held-back.ts, log-book.ts (compaction, size).
import * as Y from 'yjs'
import type { Compaction, DocumentStore } from '../../persistence/store.js'
import type { Logger } from '../logger.js'
import { Closes, storageFailingReason } from '../protocol/close-codes.js'
import { type ClientMessage, encodeSyncStep1, encodeSyncStep2, ProtocolError } from '../protocol/messages.js'
import { AwarenessRelay } from './awareness-relay.js'
import { Broadcaster } from './broadcaster.js'
import { Durability } from './durability.js'
import type { DocumentEvents } from './events.js'
import type { GroupCommit } from './group-commit.js'
import { HeldBack } from './held-back.js'
import { type CompactionLimits, LogBook } from './log-book.js'
import { clientOrigin, type Origin } from './origin.js'
import {
  changedDocument,
  dropHeldBack,
  encodeIntegratedState,
  heldBackBytes,
  holdsBack,
  isEmptyStateVector,
  keepEverything,
} from './yjs-state.js'

/** A member of a room (a client's socket, as the core sees it): it receives messages, not wire frames. */
export interface RoomMember {
  readonly id: number
  readonly canWrite: boolean
  /** The verified user (null without auth). */
  readonly userId: string | null
  /** Position of the last change this member made (0: none); set by the room. */
  lastUpdateSeq: number
  /** `shared`: the same message goes to many members (encode it once). */
  send(message: Uint8Array, shared?: boolean): void
  close(code: number, reason: string): void
}

export interface RoomLimits extends CompactionLimits {
  maxAwarenessPerSocket: number
  maxAwarenessStateBytes: number
  awarenessUserId: boolean
  /** A room's document may not grow past this (4413). */
  maxDocumentBytes: number
  roomFramesPerSecond: number
}

type RoomState = 'loading' | 'ready' | 'failed' | 'unloading' | 'unloaded'

const ignore = () => {}

export class Room {
  readonly doc = new Y.Doc({ gcFilter: keepEverything })
  readonly members = new Set<RoomMember>()
  state: RoomState = 'loading'
  /** Since when nobody is here (ms since epoch), or null while anyone is. A new room starts empty. */
  emptySince: number | null = Date.now()
  /** Resolves when the room is loaded; rejects with the reason it could not be. */
  readonly ready: Promise<void>

  private existedOnDisk = false
  private readonly book = new LogBook()
  private readonly durability = new Durability<RoomMember>(() => this.settled)
  private readonly broadcaster: Broadcaster<RoomMember>
  readonly awareness: AwarenessRelay<RoomMember>
  private readonly held = new HeldBack<RoomMember>()
  // The stored snapshot this room loaded, while the document is still exactly that (nothing in the log,
  // nothing applied since): a new client's first sync sends these bytes instead of encoding the whole
  // document again (half of a first sync's server time for a 0.5 MB document). Dropped at the first change.
  private loadedSnapshot: Uint8Array | null = null
  // Updates received this turn, applied together (see applyQueued), and who sent the ones being applied.
  private applyQueue: { member: RoomMember; update: Uint8Array; incremental: boolean }[] = []
  private queuedBytes = 0
  private queueStartedAt = 0
  private applying: Set<RoomMember> | null = null
  // The turn's one update as received, when it can stand for what the transaction changed (see onTransactionDone).
  private receivedAsIs: Uint8Array | null = null
  private readonly onExactUpdate = (update: Uint8Array) => this.onDocUpdate(update)
  // Who made each change not yet durable, for the 'changed' event (only kept while anyone listens).
  private changeOrigins: { seq: number; origins: Origin[] }[] = []

  constructor(
    readonly name: string,
    private readonly store: DocumentStore,
    private readonly commit: GroupCommit<RoomMember>,
    private readonly limits: RoomLimits,
    private readonly events: DocumentEvents,
    private readonly log: Logger,
  ) {
    this.broadcaster = new Broadcaster(
      this.members,
      limits.roomFramesPerSecond,
      (ms) => events.emit('relayed', { room: name, ms }),
      () => this.durability.durable,
    )
    this.awareness = new AwarenessRelay(
      this.members,
      this.durability,
      limits,
      () => this.applyQueued(),
      (clients, ignored, from) => {
        if (ignored > 0) events.emit('awarenessIgnored', { room: name, changes: ignored })
        if (clients.length > 0 && events.has('awareness'))
          events.emit('awareness', { room: name, origin: clientOrigin(from), clients })
      },
    )
    this.ready = this.load()
    // A failed load is reported to each waiting client; keep Node from calling it unhandled.
    this.ready.catch(ignore)
  }

  get size(): number {
    return this.members.size
  }

  /** False for a room nobody ever wrote to. */
  get exists(): boolean {
    return this.existedOnDisk || this.durability.applied > 0
  }

  /** The whole document as one update, once everything in it is durable. */
  async exportState(): Promise<Uint8Array> {
    await this.durability.whenSettled()
    if (this.state === 'failed') throw new Error(`room "${this.name}" failed to write; try again later`)
    return encodeIntegratedState(this.doc)
  }

  private async load(): Promise<void> {
    const started = performance.now()
    try {
      const stored = await this.store.load(this.name)
      // One transaction for the whole history: thousands of applyUpdate calls cost one cleanup.
      this.doc.transact(() => {
        if (stored.snapshot) Y.applyUpdate(this.doc, stored.snapshot)
        for (const update of stored.updates) Y.applyUpdate(this.doc, update)
      })
      // Only a snapshot written before encodeIntegratedState existed can hold such updates: they were never
      // integrated, so never shown to anyone. Dropping them loads the document everyone saw.
      const heldBack = holdsBack(this.doc)
      if (heldBack) {
        this.log.warn(
          { room: this.name, bytes: heldBackBytes(this.doc) },
          'the stored history held updates whose dependencies never arrived (nobody ever saw them); dropped them',
        )
        dropHeldBack(this.doc)
      }
      this.existedOnDisk = stored.exists
      this.durability.applied = this.durability.durable = stored.lastSeq
      this.book.loaded(stored)
      if (stored.updates.length === 0 && !heldBack) this.loadedSnapshot = stored.snapshot
    } catch (error) {
      this.state = 'failed'
      this.doc.destroy()
      this.log.error(
        { room: this.name, err: error },
        'room failed to load; its stored data is left untouched',
      )
      this.events.emit('failed', { room: this.name, error: error as Error })
      throw error
    }
    this.doc.on('afterTransactionCleanup', (transaction) => this.onTransactionDone(transaction))
    this.state = 'ready'
    const ms = Math.round(performance.now() - started)
    this.events.emit('loaded', { room: this.name, updates: this.book.entries, ms })
    this.maybeCompact()
  }

  /** Adds a member: it gets the server's state vector and everyone's awareness. */
  join(member: RoomMember): void {
    this.members.add(member)
    this.emptySince = null
    if (this.state === 'unloading') this.state = 'ready'
    member.send(encodeSyncStep1(Y.encodeStateVector(this.doc)))
    this.awareness.sendAll(member)
    if (this.events.has('connected'))
      this.events.emit('connected', { room: this.name, origin: clientOrigin(member) })
  }

  leave(member: RoomMember): void {
    if (!this.members.delete(member)) return
    this.awareness.leave(member)
    if (this.held.size > 0) this.held.dropOwnedBy(member)
    this.durability.forget(member)
    if (this.members.size === 0) this.emptySince = Date.now()
    if (this.events.has('disconnected'))
      this.events.emit('disconnected', { room: this.name, origin: clientOrigin(member) })
  }

  /** Handles one decoded message from a member. Throws ProtocolError for input that must close it. */
  handle(member: RoomMember, message: ClientMessage): void {
    switch (message.kind) {
      case 'sync-step1': {
        let update: Uint8Array
        try {
          update =
            this.loadedSnapshot !== null && isEmptyStateVector(message.stateVector)
              ? this.loadedSnapshot
              : encodeIntegratedState(this.doc, message.stateVector)
        } catch {
          throw new ProtocolError(1007, 'invalid state vector in sync step 1')
        }
        // It shows the document as applied so far: it waits until all of that is on disk.
        this.durability.sendWhenDurable(member, encodeSyncStep2(update))
        return
      }
      case 'sync-step2':
      case 'sync-update':
        // Read-only sockets send step 2 on every connect; ignore it rather than close them.
        if (member.canWrite) this.applyClientUpdate(member, message.update, message.kind === 'sync-update')
        return
      case 'awareness':
        this.awareness.receive(member, message.update)
        return
      case 'query-awareness':
        this.awareness.sendAll(member)
        return
      case 'auth-token':
        // A token after admission changes nothing (clients may resend one on reconnect logic).
        return
    }
  }

  private applyClientUpdate(member: RoomMember, update: Uint8Array, incremental: boolean): void {
    if (this.state !== 'ready') return
    // What is stored (snapshot and log since) is the document's size, give or take what compaction drops.
    const limit = this.limits.maxDocumentBytes
    const size = this.book.storedBytes + this.queuedBytes
    if (size + update.byteLength > limit) {
      this.log.warn({ room: this.name, bytes: size, limit }, 'document full')
      member.close(
        Closes.documentTooLarge,
        `document too large: it would pass the server's limit of ${Math.round(limit / 1048576)} MiB (--max-document-size)`,
      )
      return
    }
    this.applyQueue.push({ member, update, incremental })
    this.queuedBytes += update.byteLength
    if (this.applyQueue.length === 1) {
      this.queueStartedAt = performance.now()
      this.commit.requestApply(this)
    }
  }

  /**
   * Applies every update received this turn in one Yjs transaction: Yjs computes the whole state vector
   * at the start and end of each transaction, so one per turn instead of one per update matters in a
   * room with many writers, and the turn's changes leave as one log entry and one broadcast.
   */
  applyQueued(): void {
    const queue = this.applyQueue
    if (queue.length === 0) return
    this.applyQueue = []
    this.queuedBytes = 0
    if (this.state !== 'ready' && this.state !== 'unloading') return
    const failed: { member: RoomMember; error: Error }[] = []
    const overHeldBound = new Map<RoomMember, string>()
    const applying = new Set<RoomMember>()
    this.applying = applying
    try {
      this.doc.transact(() => {
        let heldBack = 0
        for (const { member, update } of queue) {
          if (overHeldBound.has(member)) continue
          applying.add(member)
          try {
            Y.applyUpdate(this.doc, update)
          } catch (error) {
            // Whatever part of it was integrated is kept and persisted like any other change.
            failed.push({ member, error: error as Error })
          }
          const held = this.held.capture(this.doc, member)
          if (held === 0) continue
          heldBack += held
          const excess = this.held.excess(member)
          if (excess !== null) overHeldBound.set(member, excess)
        }
        const retried = this.held.size > 0 ? this.held.retry(this.doc) : []
        for (const owner of retried) if (this.members.has(owner)) applying.add(owner)
        if (heldBack > 0) this.events.emit('heldBack', { room: this.name, updates: heldBack })
        // One update per turn is the typing case; for several, Yjs's one encoding of the transaction is
        // cheaper than merging the received updates (hot-room bench: 83 -> 78 % CPU at 5,000 updates/s).
        const alone = queue.length === 1 && queue[0].incremental && failed.length === 0
        if (alone && heldBack === 0 && retried.length === 0) this.receivedAsIs = queue[0].update
      })
    } finally {
      this.applying = null
      this.receivedAsIs = null
    }
    for (const { member, error } of failed) {
      member.close(Closes.invalidPayload, `invalid Yjs update: ${error.message}`)
    }
    for (const [member, reason] of overHeldBound) this.refuseHeldBack(member, reason)
  }

  /**
   * A socket whose updates keep waiting for changes nobody sends is closed: a stock client reconnects
   * and its sync step 2 then carries everything the room lacks, so nothing of an honest client is lost.
   */
  private refuseHeldBack(member: RoomMember, reason: string): void {
    const dropped = this.held.dropOwnedBy(member)
    this.events.emit('heldBackDropped', { room: this.name, updates: dropped })
    this.log.warn(
      { room: this.name, updates: dropped, held: this.held.size },
      'dropped updates whose dependencies never arrived; closed their sender',
    )
    member.close(Closes.tryAgainLater, `${reason}; reconnect to sync`)
  }

  /**
   * What a transaction changed becomes one log entry. Yjs can encode it (the 'update' event), but that
   * re-encodes every update and flattens the whole string of a run of typing each time (O(run length) per
   * keystroke). The bytes a client sent say the same when the turn applied one incremental update (not a
   * sync step 2, which repeats the sender's whole delete set) that did not fail, with nothing held back for
   * missing dependencies before or after. Otherwise Yjs encodes exactly what changed: it looks for
   * 'update' listeners right after this event.
   */
  private onTransactionDone(transaction: Y.Transaction): void {
    if (!changedDocument(transaction)) return
    const received = this.receivedAsIs
    if (received !== null) this.onDocUpdate(received)
    else this.doc.once('update', this.onExactUpdate)
  }

  private onDocUpdate(update: Uint8Array): void {
    this.loadedSnapshot = null
    const seq = this.durability.next()
    const senders = this.applying
    let origin: RoomMember | null = null
    if (senders !== null) {
      for (const member of senders) member.lastUpdateSeq = seq
      if (senders.size === 1) origin = senders.values().next().value ?? null
      this.broadcaster.received(seq, this.queueStartedAt)
      if (this.events.has('changed'))
        this.changeOrigins.push({ seq, origins: [...senders].map(clientOrigin) })
    }
    this.book.appended(update.byteLength)
    this.commit.append(this, seq, update, origin)
  }

  /** Called by the group commit once updates up to lastSeq are on disk: now others may see them. */
  onPersisted(lastSeq: number, updates: Uint8Array[], origin: RoomMember | null): void {
    this.durability.persisted(lastSeq)
    if (this.state === 'failed' || this.state === 'unloaded') return
    this.broadcaster.add(updates, origin)
    this.announce(lastSeq, updates)
    this.maybeCompact()
    this.durability.notify()
  }

  /** The 'stored' and 'changed' events of a batch that is now on disk. */
  private announce(lastSeq: number, updates: Uint8Array[]): void {
    const events = this.events
    if (events.has('stored')) {
      let bytes = 0
      for (const update of updates) bytes += update.byteLength
      events.emit('stored', { room: this.name, updates: updates.length, bytes })
    }
    const pending = this.changeOrigins
    if (pending.length === 0 && !events.has('changed')) return
    let seq = lastSeq - updates.length
    for (const update of updates) {
      seq++
      const at = pending.length > 0 && pending[0].seq === seq ? pending.shift() : undefined
      events.emit('changed', { room: this.name, update, origins: at?.origins ?? [] })
    }
    while (pending.length > 0 && pending[0].seq <= lastSeq) pending.shift()
  }

  onPersistFailed(error: Error): void {
    if (this.state === 'failed') return
    this.state = 'failed'
    this.log.error(
      { room: this.name, err: error },
      'write failed; closing the room so clients resend their edits',
    )
    const members = [...this.members]
    this.members.clear()
    this.durability.forgetAll()
    this.broadcaster.stop()
    this.applyQueue = []
    this.queuedBytes = 0
    this.changeOrigins = []
    for (const member of members) member.close(Closes.internalError, storageFailingReason)
    this.doc.destroy()
    this.events.emit('failed', { room: this.name, error })
    this.durability.notify()
  }

  onCompacted(compaction: Compaction): void {
    this.book.compacted(compaction)
    this.events.emit('compacted', { room: this.name, snapshotBytes: compaction.snapshot.byteLength })
    this.durability.notify()
  }

  private maybeCompact(): void {
    if (this.state !== 'failed' && this.book.wantsCompaction(this.limits)) this.compactNow()
  }

  private compactNow(): void {
    if (this.state === 'failed') return
    const compaction = this.book.startCompaction(
      this.name,
      () => encodeIntegratedState(this.doc),
      this.durability.applied,
    )
    if (compaction !== null) this.commit.compact(this, compaction)
  }

  private get settled(): boolean {
    return this.state === 'failed' || (this.durability.caughtUp && !this.book.isCompacting)
  }

  /**
   * Writes what is pending, compacts the log, and frees the memory if still nobody is here.
   * Returns true when the room was unloaded (false: someone joined meanwhile).
   */
  async unload(): Promise<boolean> {
    if (this.state !== 'ready' && this.state !== 'unloading') return this.state === 'unloaded'
    this.state = 'unloading'
    this.applyQueued()
    await this.durability.whenSettled()
    this.compactNow()
    await this.durability.whenSettled()
    if (this.members.size > 0 || this.state !== 'unloading') return false
    this.state = 'unloaded'
    this.broadcaster.stop()
    this.doc.destroy()
    this.events.emit('unloaded', { room: this.name })
    return true
  }

  /** For shutdown: closes every member with the given code, then writes and compacts. */
  async shutdown(code: number, reason: string): Promise<void> {
    this.applyQueued()
    const members = [...this.members]
    this.members.clear()
    this.durability.forgetAll()
    for (const member of members) {
      this.awareness.states.removeOwnedBy(member)
      member.close(code, reason)
    }
    if (this.state === 'ready' || this.state === 'unloading') await this.unload()
  }
}
