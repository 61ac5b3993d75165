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
import { ChangeFeed } from './change-feed.js'
import { Durability } from './durability.js'
import type { DocumentEvents } from './events.js'
import type { GroupCommit } from './group-commit.js'
import { type CompactionLimits, LogBook } from './log-book.js'
import { clientOrigin, type Origin } from './origin.js'
import { type IntakeHost, UpdateIntake } from './update-intake.js'
import {
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
const SERVER: Origin = { kind: 'server' }

export class Room implements IntakeHost<RoomMember> {
  readonly doc = new Y.Doc({ gcFilter: keepEverything })
  readonly members = new Set<RoomMember>()
  state: RoomState = 'loading'
  /** Since when nobody is here (ms since epoch), or null while anyone is. A new room starts empty. */
  emptySince: number | null = Date.now()
  // Server-side handles keeping the room loaded (openDocument), and whether one is editing right now.
  private holds = 0
  private serverEditing = false
  /** Resolves when the room is loaded; rejects with the reason it could not be. */
  readonly ready: Promise<void>

  private existedOnDisk = false
  private readonly book = new LogBook()
  private readonly durability = new Durability<RoomMember>(() => this.settled)
  private readonly broadcaster: Broadcaster<RoomMember>
  readonly awareness: AwarenessRelay<RoomMember>
  private readonly intake: UpdateIntake<RoomMember>
  // The stored snapshot this room loaded, while the document is still exactly that (nothing in the log,
  // nothing applied since): a new client's first sync sends these bytes instead of encoding the whole
  // document again (half of a first sync's server time for a 0.5 MB document). Dropped at the first change.
  private loadedSnapshot: Uint8Array | null = null
  private readonly feed: ChangeFeed

  constructor(
    readonly name: string,
    private readonly store: DocumentStore,
    private readonly commit: GroupCommit<RoomMember>,
    private readonly limits: RoomLimits,
    private readonly events: DocumentEvents,
    private readonly log: Logger,
    /** The embedder's onLoad hooks: seed or transform the document before anyone sees it. */
    private readonly onLoad?: (context: { room: string; doc: Y.Doc; isNew: boolean }) => Promise<void>,
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
    this.feed = new ChangeFeed(name, events)
    this.intake = new UpdateIntake<RoomMember>(this, limits.maxDocumentBytes, events, log)
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
    this.loadedSnapshot = null
    const seq = this.durability.next()
    let origin: RoomMember | null = null
    if (this.serverEditing) this.feed.appliedBy(seq, SERVER)
    else if (senders !== null) {
      for (const member of senders) member.lastUpdateSeq = seq
      if (senders.size === 1) origin = senders.values().next().value ?? null
      this.broadcaster.received(seq, receivedAt)
      this.feed.applied(seq, senders)
    }
    this.book.appended(update.byteLength)
    this.commit.append(this, seq, update, origin)
  }

  /** Keeps the room loaded for a server-side handle until release(). */
  hold(): void {
    this.holds++
    this.emptySince = null
    if (this.state === 'unloading') this.state = 'ready'
  }

  release(): void {
    if (this.holds === 0) return
    this.holds--
    if (this.holds === 0 && this.members.size === 0) this.emptySince = Date.now()
  }

  /**
   * A server-side edit (origin: the server): applied like a client's change, after what clients sent
   * before it; resolves once it is durable, when every member has been sent it.
   */
  async edit(change: (doc: Y.Doc) => void): Promise<void> {
    await this.ready
    if (this.state !== 'ready') throw new Error(`room "${this.name}" is not open for edits (${this.state})`)
    this.applyQueued()
    const before = this.durability.applied
    this.serverEditing = true
    try {
      this.doc.transact(() => change(this.doc), SERVER)
    } finally {
      this.serverEditing = false
    }
    if (this.durability.applied > before) await this.durability.whenDurable()
  }

  /** Called by the group commit once updates up to lastSeq are on disk: now others may see them. */
  onPersisted(lastSeq: number, updates: Uint8Array[], origin: RoomMember | null): void {
    this.durability.persisted(lastSeq)
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
    const members = [...this.members]
    this.members.clear()
    this.durability.failed(error)
    this.broadcaster.stop()
    this.intake.clear()
    this.feed.clear()
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
    if (this.members.size > 0 || this.holds > 0 || this.state !== 'unloading') return false
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
