// One document in memory and its traffic: its Y.Doc, the members in it, what they send and are sent, and
// the rule that nothing a member sends reaches anyone else before it is durable. Its life beyond that
// (server-side holds and edits, unload, discard, shutdown) is room.ts. The parts live beside it:
// durability.ts (what waits for the disk), broadcaster.ts (pacing), awareness-relay.ts, update-intake.ts,
// first-sync.ts, change-feed.ts, log-book.ts (compaction, size); member.ts says what a member is.
import * as Y from 'yjs'
import type { Compaction, DocumentStore } from '../../persistence/store.js'
import type { Logger } from '../logger.js'
import { Closes, storageFailingReason } from '../protocol/close-codes.js'
import { type ClientMessage, encodeSyncStep1, encodeSyncStep2 } from '../protocol/messages.js'
import { AwarenessRelay } from './awareness-relay.js'
import { Broadcaster } from './broadcaster.js'
import { ChangeFeed } from './change-feed.js'
import { Durability } from './durability.js'
import type { DocumentEvents } from './events.js'
import { FirstSync } from './first-sync.js'
import type { GroupCommit } from './group-commit.js'
import { LogBook } from './log-book.js'
import type { RoomLimits, RoomMember } from './member.js'
import { clientOrigin, serverOrigin } from './origin.js'
import { type IntakeHost, UpdateIntake } from './update-intake.js'
import { applyStoredHistory, encodeIntegratedState, keepEverything } from './yjs-state.js'

export type { RoomLimits, RoomMember } from './member.js'

type RoomState = 'loading' | 'ready' | 'failed' | 'unloading' | 'unloaded'

const ignore = () => {}

export class LoadedRoom implements IntakeHost<RoomMember> {
  readonly doc = new Y.Doc({ gcFilter: keepEverything })
  readonly members = new Set<RoomMember>()
  state: RoomState = 'loading'
  /** Since when nobody is here (ms since epoch), or null while anyone is. A new room starts empty. */
  emptySince: number | null = Date.now()
  // Server-side handles keeping the room loaded (openDocument), and whether one is editing right now.
  protected holds = 0
  protected serverEditing = false
  /** Resolves when the room is loaded; rejects with the reason it could not be. */
  readonly ready: Promise<void>

  private existedOnDisk = false
  protected readonly book = new LogBook()
  protected readonly durability = new Durability<RoomMember>(() => this.settled)
  protected readonly broadcaster: Broadcaster<RoomMember>
  readonly awareness: AwarenessRelay<RoomMember>
  protected readonly intake: UpdateIntake<RoomMember>
  protected readonly firstSync = new FirstSync(this.doc)
  protected readonly feed: ChangeFeed

  constructor(
    readonly name: string,
    private readonly store: DocumentStore,
    private readonly commit: GroupCommit<RoomMember>,
    private readonly limits: RoomLimits,
    protected readonly events: DocumentEvents,
    protected readonly log: Logger,
    /** The embedder's onLoad hooks: seed or transform the document before anyone sees it. */
    private readonly onLoad?: (context: { room: string; doc: Y.Doc; isNew: boolean }) => Promise<void>,
  ) {
    this.broadcaster = new Broadcaster(
      this.members,
      limits.roomFramesPerSecond,
      (ms) => events.emit('relayed', { room: name, ms }),
      () => this.durability.durable,
    )
    const applyFirst = () => this.applyQueued()
    this.awareness = new AwarenessRelay(this.members, this.durability, limits, applyFirst, name, events)
    this.feed = new ChangeFeed(name, events)
    this.intake = new UpdateIntake<RoomMember>(this, limits.maxDocumentBytes, events, log)
    this.book.shared = limits.sharedLog === true
    this.ready = this.load()
    // A failed load is reported to each waiting client; keep Node from calling it unhandled.
    this.ready.catch(ignore)
  }

  get size(): number {
    return this.members.size
  }

  get accepting(): boolean {
    return this.state === 'ready'
  }

  get storedBytes(): number {
    return this.book.storedBytes
  }

  /** The log position everything in memory reaches (in a cluster: what this node has followed). */
  get logPosition(): number {
    return this.book.storedPosition
  }

  requestApply(): void {
    this.commit.requestApply(this)
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
      const dropped = applyStoredHistory(this.doc, stored.snapshot, stored.updates)
      if (dropped > 0)
        this.log.warn(
          { room: this.name, bytes: dropped },
          'the stored history held updates whose dependencies never arrived (nobody ever saw them); dropped them',
        )
      this.existedOnDisk = stored.exists
      this.book.loaded(stored)
      if (stored.updates.length === 0 && dropped === 0) this.firstSync.loaded(stored.snapshot)
      this.intake.listen()
      if (this.onLoad !== undefined) {
        // What the hooks change is stored like a server-side edit; clients wait for the room meanwhile.
        this.serverEditing = true
        try {
          await this.onLoad({ room: this.name, doc: this.doc, isNew: !stored.exists })
        } finally {
          this.serverEditing = false
        }
      }
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
    this.intake.leave(member)
    this.durability.forget(member)
    if (this.members.size === 0 && this.holds === 0) this.emptySince = Date.now()
    if (this.events.has('disconnected'))
      this.events.emit('disconnected', { room: this.name, origin: clientOrigin(member) })
  }

  /** Handles one decoded message from a member. Throws ProtocolError for input that must close it. */
  handle(member: RoomMember, message: ClientMessage): void {
    switch (message.kind) {
      case 'sync-step1':
        // It shows the document as applied so far: it waits until all of that is on disk.
        this.durability.sendWhenDurable(member, encodeSyncStep2(this.firstSync.answer(message.stateVector)))
        return
      case 'sync-step2':
      case 'sync-update':
        // Read-only sockets send step 2 on every connect; ignore it rather than close them.
        if (member.canWrite) this.intake.receive(member, message.update, message.kind === 'sync-update')
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

  /**
   * Sends `message` to `member` once every change it has sent so far is durable: a save receipt (the
   * Hocuspocus sync status). What it sent this turn is applied first, so it counts. Returns false, sending
   * nothing, while some of what it sent is held back for missing dependencies (so not stored): ask again
   * once the room has changed.
   */
  sendWhenSaved(member: RoomMember, message: Uint8Array): boolean {
    this.applyQueued()
    if (this.intake.holdsBackFrom(member)) return false
    this.durability.sendWhenDurable(member, message, member.lastUpdateSeq)
    return true
  }

  /** Applies what members sent this turn (the group commit's step, or before an awareness broadcast). */
  applyQueued(): void {
    if (this.state === 'ready' || this.state === 'unloading') this.intake.applyQueued()
    else this.intake.clear()
  }

  /** One change of the document (from the intake): it goes to the log, and out once it is durable. */
  onChange(update: Uint8Array, senders: ReadonlySet<RoomMember> | null, receivedAt: number): void {
    this.firstSync.changed()
    const seq = this.durability.next()
    let origin: RoomMember | null = null
    if (this.serverEditing) this.feed.appliedBy(seq, serverOrigin)
    else if (senders !== null) {
      for (const member of senders) member.lastUpdateSeq = seq
      if (senders.size === 1) origin = senders.values().next().value ?? null
      this.broadcaster.received(seq, receivedAt)
      this.feed.applied(seq, senders)
    }
    this.book.appended(update.byteLength)
    this.commit.append(this, seq, update, origin)
  }

  /**
   * Called by the group commit once the room's changes up to lastSeq (its own count) are on disk, the
   * last at log position `position`: now others may see them.
   */
  onPersisted(lastSeq: number, position: number, updates: Uint8Array[], origin: RoomMember | null): void {
    this.durability.persisted(lastSeq)
    this.book.persisted(position, updates)
    if (this.state === 'failed' || this.state === 'unloaded') return
    this.broadcaster.add(updates, origin)
    this.feed.persisted(lastSeq, updates)
    this.maybeCompact()
    this.durability.notify()
  }

  onPersistFailed(error: Error): void {
    if (this.state === 'failed') return
    this.state = 'failed'
    this.log.error(
      { room: this.name, err: error },
      'write failed; closing the room so clients resend their edits',
    )
    this.durability.failed(error)
    this.expelAll(Closes.internalError, storageFailingReason)
    this.free()
    this.events.emit('failed', { room: this.name, error })
    this.durability.notify()
  }

  onCompacted(compaction: Compaction): void {
    this.book.compacted(compaction)
    this.events.emit('compacted', { room: this.name, snapshotBytes: compaction.snapshot.byteLength })
    this.durability.notify()
  }

  protected maybeCompact(): void {
    if (this.book.wantsCompaction(this.limits)) this.compactNow()
  }

  protected compactNow(): void {
    // A discarded room's storage is being deleted: a snapshot written now would bring it back.
    if (this.state === 'failed' || this.state === 'unloaded') return
    const compaction = this.book.startCompaction(this.name, () => encodeIntegratedState(this.doc))
    if (compaction !== null) this.commit.compact(this, compaction)
  }

  protected get settled(): boolean {
    return this.state === 'failed' || (this.durability.caughtUp && !this.book.isCompacting)
  }

  /** Closes every member with `code`; what they sent but the room did not apply yet is dropped. */
  protected expelAll(code: number, reason: string): void {
    const members = [...this.members]
    this.members.clear()
    this.intake.clear()
    this.durability.forgetAll()
    for (const member of members) {
      this.awareness.states.removeOwnedBy(member)
      member.close(code, reason)
    }
  }

  /** The memory of a room that will not be used again. */
  protected free(): void {
    this.broadcaster.stop()
    this.feed.clear()
    this.doc.destroy()
  }
}
