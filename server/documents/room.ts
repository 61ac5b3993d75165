// One document in memory: its Y.Doc, awareness, the sockets in it, and the rule that nothing a
// client sends reaches anyone else before it is durable.
import * as Y from 'yjs'
import type { Compaction, DocumentStore } from '../../persistence/store.js'
import { encodeBinaryFrame } from '../gateway/ws-frame.js'
import type { Logger } from '../logger.js'
import { Closes, storageFailingReason } from '../protocol/close-codes.js'
import {
  type ClientMessage,
  encodeAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
  ProtocolError,
} from '../protocol/messages.js'
import { type AwarenessChange, AwarenessState, decodeAwarenessUpdate } from './awareness-state.js'
import type { GroupCommit } from './group-commit.js'
import { HeldBack } from './held-back.js'

/** A socket as a room sees it. */
export interface RoomMember {
  readonly id: number
  readonly canWrite: boolean
  /** The verified user (null without auth). */
  readonly userId: string | null
  /** Sequence number of the last update this member made (0: none); set by the room. */
  lastUpdateSeq: number
  send(frame: Uint8Array): void
  /** Sends a frame from encodeBinaryFrame: one encoding shared by every member of a broadcast. */
  sendEncoded(wireFrame: Buffer): void
  close(code: number, reason: string): void
}

export interface RoomLimits {
  compactEntries: number
  compactBytes: number
  maxAwarenessPerSocket: number
  maxAwarenessStateBytes: number
  /** Stamp each awareness state with the sender's verified user id (user.id). */
  awarenessUserId: boolean
  /** A room's document may not grow past this (4413). */
  maxDocumentBytes: number
  roomFramesPerSecond: number
}

export interface RoomEvents {
  /** Time from receiving the oldest update in a broadcast to sending that broadcast. */
  onRelayed(ms: number): void
  /** The room can no longer be trusted in memory (a write failed); the registry forgets it. */
  onFailed(room: Room): void
  /** Counts for /metrics. */
  count(what: 'updatesHeldBack' | 'heldBackDropped' | 'awarenessIgnored', n: number): void
}

/**
 * Whether a transaction changed anything (the test Yjs makes before emitting 'update'). Runs once per
 * applied turn: iterating entries would allocate an array per client in the document (~640 B a call for
 * 10 clients); clients are only ever added, so a new one shows in the size.
 */
function changedDocument(transaction: Y.Transaction): boolean {
  const { afterState, beforeState } = transaction
  if (transaction.deleteSet.clients.size > 0 || afterState.size !== beforeState.size) return true
  for (const client of afterState.keys()) if (beforeState.get(client) !== afterState.get(client)) return true
  return false
}

/**
 * The document as one update, without the updates Yjs holds back for missing dependencies (its own
 * encodeStateAsUpdate appends them). In a snapshot they would make the room unloadable: its next load
 * would hold them back again, as if the stored history were missing updates. In a first sync or an
 * export they would hand out content nobody can see. Encoding is synchronous, so nothing observes the
 * moment they are set aside.
 */
function encodeIntegratedState(doc: Y.Doc, stateVector?: Uint8Array): Uint8Array {
  const store = doc.store
  const { pendingStructs, pendingDs } = store
  if (pendingStructs === null && pendingDs === null) return Y.encodeStateAsUpdate(doc, stateVector)
  store.pendingStructs = null
  store.pendingDs = null
  try {
    return Y.encodeStateAsUpdate(doc, stateVector)
  } finally {
    store.pendingStructs = pendingStructs
    store.pendingDs = pendingDs
  }
}

/** Awareness states with the sender's verified user id written in as user.id (other user fields kept). */
function stampUserId(changes: AwarenessChange[], userId: string): AwarenessChange[] {
  return changes.map((change) => {
    if (change.state === 'null') return change
    const state: unknown = JSON.parse(change.state)
    if (state === null || typeof state !== 'object' || Array.isArray(state)) return change
    const record = state as Record<string, unknown>
    const user = record.user !== null && typeof record.user === 'object' ? record.user : {}
    return { ...change, state: JSON.stringify({ ...record, user: { ...user, id: userId } }) }
  })
}

/** A client that has nothing yet: its state vector lists no clients (varUint 0). */
const isEmptyStateVector = (stateVector: Uint8Array) => stateVector.length === 1 && stateVector[0] === 0

// Shared by every room: Y.Doc and a promise handler would otherwise make a closure per room.
const keepEverything = () => true
const ignore = () => {}

/** What Yjs encodes for a document holding Y.Text "warm-up" and Y.Map {k: 1} (client 1). */
const WARM_UP_UPDATE = new Uint8Array([
  1, 2, 1, 0, 4, 1, 1, 116, 7, 119, 97, 114, 109, 45, 117, 112, 40, 1, 1, 109, 1, 107, 1, 125, 1, 0,
])

/**
 * Runs Yjs's decode, apply and encode paths on throwaway documents at start-up, so the first room a
 * process loads does not also pay for compiling them: that room's apply took 2.7-3.5 ms instead of
 * 0.5-0.9 ms for a 0.4 MB document. Nothing is stored or sent.
 */
export function warmUpYjs(): void {
  for (let i = 0; i < 2; i++) {
    const doc = new Y.Doc({ gcFilter: keepEverything })
    doc.transact(() => Y.applyUpdate(doc, WARM_UP_UPDATE))
    Y.encodeStateVector(doc)
    encodeIntegratedState(doc)
    doc.destroy()
  }
}

type RoomState = 'loading' | 'ready' | 'failed' | 'unloading' | 'unloaded'

interface DeferredFrame {
  seq: number
  member: RoomMember
  frame: Uint8Array
}

export class Room {
  readonly doc = new Y.Doc({ gcFilter: keepEverything })
  readonly awareness = new AwarenessState<RoomMember>()
  readonly members = new Set<RoomMember>()
  state: RoomState = 'loading'
  /** Since when nobody is here (ms since epoch), or null while anyone is. A new room starts empty. */
  emptySince: number | null = Date.now()
  /** Resolves when the room is loaded; rejects with the reason it could not be. */
  readonly ready: Promise<void>

  private existedOnDisk = false
  // The room's own count of changes applied and made durable since it loaded: which deferred frames and
  // receipts may go. Not log positions: the store assigns those (storedPosition).
  private appliedSeq = 0
  private durableSeq = 0
  // The log position of the last change the store confirmed (or load read): what a snapshot covers.
  private storedPosition = 0
  // Bytes of the changes applied but not yet durable (appliedSeq - durableSeq of them): see compactNow.
  private unwrittenBytes = 0
  private logEntries = 0
  private logBytes = 0
  private snapshotBytes = 0
  private compacting: { entries: number; bytes: number } | null = null
  private deferred: DeferredFrame[] = []
  // The stored snapshot this room loaded, while the document is still exactly that (nothing in the log,
  // nothing applied since): a new client's first sync sends these bytes instead of encoding the whole
  // document again (half of a first sync's server time for a 0.5 MB document). Dropped at the first change.
  private loadedSnapshot: Uint8Array | null = null
  private awarenessScheduled = false
  private readonly held = new HeldBack<RoomMember>()
  // Updates received this turn, applied together (see applyQueued), and who sent the ones being applied.
  private applyQueue: { member: RoomMember; update: Uint8Array; incremental: boolean }[] = []
  private queuedBytes = 0
  private applying: Set<RoomMember> | null = null
  // The turn's one update as received, when it can stand for what the transaction changed (see onTransactionDone).
  private receivedAsIs: Uint8Array | null = null
  private readonly onExactUpdate = (update: Uint8Array) => this.onDocUpdate(update)
  private queueStartedAt = 0
  // When each applied, not yet broadcast, log entry's first update arrived (seq, ms), oldest first.
  private relayClock: number[] = []
  // Durable updates waiting to be broadcast, and who sent them (null: several senders).
  private outbox: Uint8Array[] = []
  private outboxOrigin: RoomMember | null = null
  private lastBroadcast = 0
  private broadcastTimer: NodeJS.Timeout | null = null
  private settledWaiters: (() => void)[] = []

  constructor(
    readonly name: string,
    private readonly store: DocumentStore,
    private readonly commit: GroupCommit<RoomMember>,
    private readonly limits: RoomLimits,
    private readonly events: RoomEvents,
    private readonly log: Logger,
  ) {
    this.ready = this.load()
    // A failed load is reported to each waiting client; keep Node from calling it unhandled.
    this.ready.catch(ignore)
  }

  get size(): number {
    return this.members.size
  }

  /** False for a room nobody ever wrote to. */
  get exists(): boolean {
    return this.existedOnDisk || this.appliedSeq > 0
  }

  /** The whole document as one update, once everything in it is durable. */
  async exportState(): Promise<Uint8Array> {
    await this.whenSettled()
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
      const heldBack = this.holdsBack()
      if (heldBack) {
        this.log.warn(
          { room: this.name, bytes: this.pendingBytes() },
          'the stored history held updates whose dependencies never arrived (nobody ever saw them); dropped them',
        )
        this.dropPending()
      }
      this.existedOnDisk = stored.exists
      this.storedPosition = stored.position
      this.logEntries = stored.updates.length
      this.logBytes = stored.logBytes
      this.snapshotBytes = stored.snapshot?.byteLength ?? 0
      if (stored.updates.length === 0 && !heldBack) this.loadedSnapshot = stored.snapshot
    } catch (error) {
      this.state = 'failed'
      this.doc.destroy()
      this.log.error(
        { room: this.name, err: error },
        'room failed to load; its stored data is left untouched',
      )
      this.events.onFailed(this)
      throw error
    }
    this.doc.on('afterTransactionCleanup', (transaction) => this.onTransactionDone(transaction))
    this.state = 'ready'
    this.log.debug(
      { room: this.name, updates: this.logEntries, ms: Math.round(performance.now() - started) },
      'room loaded',
    )
    this.maybeCompact()
  }

  /** Adds a socket: it gets the server's state vector and everyone's awareness. */
  join(member: RoomMember): void {
    this.members.add(member)
    this.emptySince = null
    if (this.state === 'unloading') this.state = 'ready'
    member.send(encodeSyncStep1(Y.encodeStateVector(this.doc)))
    const everyone = this.awareness.encodeAll()
    if (everyone !== null) member.send(encodeAwareness(everyone))
  }

  leave(member: RoomMember): void {
    if (!this.members.delete(member)) return
    if (this.awareness.removeOwnedBy(member) > 0) this.scheduleAwarenessBroadcast()
    if (this.held.size > 0) this.held.dropOwnedBy(member)
    if (this.deferred.length > 0) this.deferred = this.deferred.filter((d) => d.member !== member)
    if (this.members.size === 0) {
      this.emptySince = Date.now()
    }
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
        this.sendWhenDurable(member, encodeSyncStep2(update))
        return
      }
      case 'sync-step2':
      case 'sync-update':
        // Read-only sockets send step 2 on every connect; ignore it rather than close them.
        if (member.canWrite) this.applyClientUpdate(member, message.update, message.kind === 'sync-update')
        return
      case 'awareness': {
        const { maxAwarenessStateBytes, awarenessUserId, maxAwarenessPerSocket } = this.limits
        let changes = decodeAwarenessUpdate(message.update, maxAwarenessStateBytes)
        if (awarenessUserId && member.userId !== null) changes = stampUserId(changes, member.userId)
        const { accepted, ignored } = this.awareness.apply(changes, member, maxAwarenessPerSocket)
        if (ignored > 0) this.events.count('awarenessIgnored', ignored)
        if (accepted > 0) this.scheduleAwarenessBroadcast()
        return
      }
      case 'query-awareness': {
        const everyone = this.awareness.encodeAll()
        if (everyone !== null) member.send(encodeAwareness(everyone))
        return
      }
      case 'auth-token':
        // A token after admission changes nothing (clients may resend one on reconnect logic).
        return
    }
  }

  private applyClientUpdate(member: RoomMember, update: Uint8Array, incremental: boolean): void {
    if (this.state !== 'ready') return
    // What is stored (snapshot and log since) is the document's size, give or take what compaction drops.
    const limit = this.limits.maxDocumentBytes
    const size = this.snapshotBytes + this.logBytes + this.queuedBytes
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
        if (heldBack > 0) this.events.count('updatesHeldBack', heldBack)
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
    this.events.count('heldBackDropped', dropped)
    this.log.warn(
      { room: this.name, updates: dropped, held: this.held.size },
      'dropped updates whose dependencies never arrived; closed their sender',
    )
    member.close(Closes.tryAgainLater, `${reason}; reconnect to sync`)
  }

  /** Whether Yjs holds updates back for missing dependencies (encodeIntegratedState leaves them out). */
  private holdsBack(): boolean {
    return this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null
  }

  private pendingBytes(): number {
    const store = this.doc.store
    return (store.pendingStructs?.update.byteLength ?? 0) + (store.pendingDs?.byteLength ?? 0)
  }

  private dropPending(): void {
    this.doc.store.pendingStructs = null
    this.doc.store.pendingDs = null
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
    if (received !== null) {
      this.onDocUpdate(received)
    } else {
      this.doc.once('update', this.onExactUpdate)
    }
  }

  private onDocUpdate(update: Uint8Array): void {
    this.loadedSnapshot = null
    const seq = ++this.appliedSeq
    const senders = this.applying
    let origin: RoomMember | null = null
    if (senders !== null) {
      for (const member of senders) member.lastUpdateSeq = seq
      if (senders.size === 1) origin = senders.values().next().value ?? null
    }
    this.logEntries++
    this.logBytes += update.byteLength
    this.unwrittenBytes += update.byteLength
    if (senders !== null) this.relayClock.push(seq, this.queueStartedAt)
    this.commit.append(this, seq, update, origin)
  }

  /** Called by the group commit once updates up to lastSeq are on disk: now others may see them. */
  onPersisted(lastSeq: number, position: number, updates: Uint8Array[], origin: RoomMember | null): void {
    this.durableSeq = lastSeq
    this.storedPosition = position
    for (const update of updates) this.unwrittenBytes -= update.byteLength
    if (this.state === 'failed' || this.state === 'unloaded') return
    this.outboxOrigin = this.outbox.length === 0 || this.outboxOrigin === origin ? origin : null
    for (const update of updates) this.outbox.push(update)
    this.scheduleBroadcast()
    if (this.deferred.length > 0) this.releaseDeferred()
    this.maybeCompact()
    this.notifySettled()
  }

  /**
   * A broadcast costs one send per member, so a busy room is paced to --room-frames-per-second (20,000):
   * one broadcast every members/20 ms (10 ms for 200 members), each carrying every update that became
   * durable meanwhile. Rooms under 20 members, and quiet rooms, broadcast at once. Against members/40,
   * hot-room bench (200 members), two runs each: server CPU at 200 updates/s 58-61 -> 39-40 %, at
   * 10,000/s 81-86 -> 70-72 %; its p50 5.4-6.8 -> 7.7-9.6 ms.
   */
  private scheduleBroadcast(): void {
    if (this.broadcastTimer !== null) return
    const interval = (this.members.size * 1000) / this.limits.roomFramesPerSecond
    const wait = this.lastBroadcast + interval - performance.now()
    if (wait < 1) {
      this.broadcast()
      return
    }
    this.broadcastTimer = setTimeout(() => {
      this.broadcastTimer = null
      this.broadcast()
    }, wait)
  }

  private broadcast(): void {
    const updates = this.outbox
    if (updates.length === 0 || this.state === 'failed' || this.state === 'unloaded') return
    const origin = this.outboxOrigin
    this.outbox = []
    this.outboxOrigin = null
    this.lastBroadcast = performance.now()
    const clock = this.relayClock
    if (clock.length > 0) {
      this.events.onRelayed(this.lastBroadcast - clock[1])
      let done = 0
      while (done < clock.length && clock[done] <= this.durableSeq) done += 2
      clock.splice(0, done)
    }
    // One message per frame (stock clients read only the first), encoded once for every member.
    const frame = encodeBinaryFrame(encodeUpdate(updates.length === 1 ? updates[0] : Y.mergeUpdates(updates)))
    for (const member of this.members) if (member !== origin) member.sendEncoded(frame)
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
    this.deferred = []
    this.outbox = []
    this.applyQueue = []
    this.queuedBytes = 0
    this.relayClock = []
    for (const member of members) member.close(Closes.internalError, storageFailingReason)
    this.doc.destroy()
    this.events.onFailed(this)
    this.notifySettled()
  }

  onCompacted(compaction: Compaction): void {
    const done = this.compacting
    this.compacting = null
    if (done) {
      this.logEntries -= done.entries
      this.logBytes -= done.bytes
    }
    this.snapshotBytes = compaction.snapshot.byteLength
    this.log.debug({ room: this.name, through: compaction.through }, 'room compacted')
    this.notifySettled()
  }

  private sendWhenDurable(member: RoomMember, frame: Uint8Array): void {
    // The frame shows the document as applied so far; hold it until all of that is on disk.
    if (this.durableSeq >= this.appliedSeq) member.send(frame)
    else this.deferred.push({ seq: this.appliedSeq, member, frame })
  }

  private releaseDeferred(): void {
    let released = 0
    for (const entry of this.deferred) {
      if (entry.seq > this.durableSeq) break
      entry.member.send(entry.frame)
      released++
    }
    this.deferred.splice(0, released)
  }

  private scheduleAwarenessBroadcast(): void {
    if (this.awarenessScheduled) return
    this.awarenessScheduled = true
    // Cursor moves from many sockets in one turn leave as one frame; the sender gets it too (keep-alive).
    setImmediate(() => {
      this.awarenessScheduled = false
      // Edits received before this awareness must count for its receipts: apply them first.
      this.applyQueued()
      const changes = this.awareness.takePending()
      if (changes === null) return
      const frame = encodeAwareness(changes)
      const wireFrame = encodeBinaryFrame(frame)
      // A member's own echo waits until its edits are durable, so the echo doubles as a save receipt.
      for (const member of this.members) {
        if (member.lastUpdateSeq > this.durableSeq)
          this.deferred.push({ seq: member.lastUpdateSeq, member, frame })
        else member.sendEncoded(wireFrame)
      }
    })
  }

  private maybeCompact(): void {
    if (this.compacting !== null || this.state === 'failed') return
    // Rewriting the snapshot costs its size, so a big document waits until its log is a quarter of it:
    // compaction stays a constant factor of the bytes written, not a full rewrite every N small edits.
    const enoughEntries =
      this.logEntries >= this.limits.compactEntries && this.logBytes >= this.snapshotBytes / 4
    if (!enoughEntries && this.logBytes < this.limits.compactBytes) return
    this.compactNow()
  }

  private compactNow(): void {
    if (this.compacting !== null || this.logEntries === 0 || this.state === 'failed') return
    // The snapshot also holds changes applied but not yet durable, whose positions the store has not given
    // yet: their entries stay after `through` (applying one twice is harmless in Yjs) for the next compaction.
    const unwritten = this.appliedSeq - this.durableSeq
    this.compacting = { entries: this.logEntries - unwritten, bytes: this.logBytes - this.unwrittenBytes }
    const snapshot = encodeIntegratedState(this.doc)
    this.commit.compact(this, { room: this.name, snapshot, through: this.storedPosition })
  }

  private get settled(): boolean {
    return this.state === 'failed' || (this.durableSeq >= this.appliedSeq && this.compacting === null)
  }

  private notifySettled(): void {
    if (!this.settled || this.settledWaiters.length === 0) return
    const waiters = this.settledWaiters
    this.settledWaiters = []
    for (const resolve of waiters) resolve()
  }

  private whenSettled(): Promise<void> {
    if (this.settled) return Promise.resolve()
    return new Promise((resolve) => this.settledWaiters.push(resolve))
  }

  /**
   * Writes what is pending, compacts the log, and frees the memory if still nobody is here.
   * Returns true when the room was unloaded (false: someone joined meanwhile).
   */
  async unload(): Promise<boolean> {
    if (this.state !== 'ready' && this.state !== 'unloading') return this.state === 'unloaded'
    this.state = 'unloading'
    this.applyQueued()
    await this.whenSettled()
    this.compactNow()
    await this.whenSettled()
    if (this.members.size > 0 || this.state !== 'unloading') return false
    this.state = 'unloaded'
    if (this.broadcastTimer !== null) clearTimeout(this.broadcastTimer)
    this.doc.destroy()
    return true
  }

  /** For shutdown: closes every member with the given code, then writes and compacts. */
  async shutdown(code: number, reason: string): Promise<void> {
    this.applyQueued()
    const members = [...this.members]
    this.members.clear()
    this.deferred = []
    for (const member of members) {
      this.awareness.removeOwnedBy(member)
      member.close(code, reason)
    }
    if (this.state === 'ready' || this.state === 'unloading') await this.unload()
  }
}
