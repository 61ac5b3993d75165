// What members send becomes changes of the document here: updates received in one turn are applied in
// one Yjs transaction, updates that wait for missing dependencies are held back (held-back.ts), a
// document over its size limit refuses more, and each transaction's change is handed to the room once.
import * as Y from 'yjs'
import type { Logger } from '../logger.js'
import { Closes } from '../protocol/close-codes.js'
import type { DocumentEvents } from './events.js'
import { HeldBack } from './held-back.js'
import { REMOTE_TRANSACTION } from './origin.js'
import { changedDocument } from './yjs-state.js'

export interface IntakeMember {
  close(code: number, reason: string): void
}

export interface IntakeHost<Member> {
  readonly name: string
  readonly doc: Y.Doc
  readonly members: ReadonlySet<Member>
  /** Whether the room takes updates now. */
  readonly accepting: boolean
  /** Bytes the room's document holds in storage (snapshot and log). */
  readonly storedBytes: number
  /** The turn's updates are waiting: the group commit calls applyQueued in this turn's step. */
  requestApply(): void
  /** One change of the document, made from what `senders` sent (null: not from members). */
  onChange(update: Uint8Array, senders: ReadonlySet<Member> | null, receivedAt: number): void
}

export class UpdateIntake<Member extends IntakeMember> {
  private readonly held = new HeldBack<Member>()
  private queue: { member: Member; update: Uint8Array; incremental: boolean }[] = []
  private queuedBytes = 0
  private startedAt = 0
  private applying: Set<Member> | null = null
  // The turn's one update as received, when it can stand for what the transaction changed (see onTransactionDone).
  private receivedAsIs: Uint8Array | null = null
  private readonly onExactUpdate = (update: Uint8Array) =>
    this.host.onChange(update, this.applying, this.startedAt)

  constructor(
    private readonly host: IntakeHost<Member>,
    private readonly maxDocumentBytes: number,
    private readonly events: DocumentEvents,
    private readonly log: Logger,
  ) {}

  /** From now on, every transaction of the document that changed it is handed to the host. */
  listen(): void {
    this.host.doc.on('afterTransactionCleanup', (transaction) => this.onTransactionDone(transaction))
  }

  /** An update a member sent; `incremental`: a sync update, not a step 2. */
  receive(member: Member, update: Uint8Array, incremental: boolean): void {
    if (!this.host.accepting) return
    // What is stored (snapshot and log since) is the document's size, give or take what compaction drops.
    const limit = this.maxDocumentBytes
    const size = this.host.storedBytes + this.queuedBytes
    if (size + update.byteLength > limit) {
      this.log.warn({ room: this.host.name, bytes: size, limit }, 'document full')
      member.close(
        Closes.documentTooLarge,
        `document too large: it would pass the server's limit of ${Math.round(limit / 1048576)} MiB (--max-document-size)`,
      )
      return
    }
    this.queue.push({ member, update, incremental })
    this.queuedBytes += update.byteLength
    if (this.queue.length === 1) {
      this.startedAt = performance.now()
      this.host.requestApply()
    }
  }

  /** Whether something `member` sent waits for missing dependencies (so is not stored). */
  holdsBackFrom(member: Member): boolean {
    return this.held.size > 0 && this.held.holdsFrom(member)
  }

  /** The member left: what it held back goes (it resends it with its next sync). */
  leave(member: Member): void {
    if (this.held.size > 0) this.held.dropOwnedBy(member)
  }

  clear(): void {
    this.queue = []
    this.queuedBytes = 0
  }

  /**
   * Applies every update received this turn in one Yjs transaction: Yjs computes the whole state vector
   * at the start and end of each transaction, so one per turn instead of one per update matters in a
   * room with many writers, and the turn's changes leave as one log entry and one broadcast.
   */
  applyQueued(): void {
    const queue = this.queue
    if (queue.length === 0) return
    this.clear()
    const doc = this.host.doc
    const failed: { member: Member; error: Error }[] = []
    const overHeldBound = new Map<Member, string>()
    const applying = new Set<Member>()
    this.applying = applying
    try {
      doc.transact(() => {
        let heldBack = 0
        for (const { member, update } of queue) {
          if (overHeldBound.has(member)) continue
          applying.add(member)
          try {
            Y.applyUpdate(doc, update)
          } catch (error) {
            // Whatever part of it was integrated is kept and persisted like any other change.
            failed.push({ member, error: error as Error })
          }
          const held = this.held.capture(doc, member)
          if (held === 0) continue
          heldBack += held
          const excess = this.held.excess(member)
          if (excess !== null) overHeldBound.set(member, excess)
        }
        const retried = this.held.size > 0 ? this.held.retry(doc) : []
        for (const owner of retried) if (this.host.members.has(owner)) applying.add(owner)
        if (heldBack > 0) this.events.emit('heldBack', { room: this.host.name, updates: heldBack })
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
  private refuseHeldBack(member: Member, reason: string): void {
    const dropped = this.held.dropOwnedBy(member)
    this.events.emit('heldBackDropped', { room: this.host.name, updates: dropped })
    this.log.warn(
      { room: this.host.name, updates: dropped, held: this.held.size },
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
    // Another node's stored updates are already in the log.
    if (transaction.origin === REMOTE_TRANSACTION || !changedDocument(transaction)) return
    const received = this.receivedAsIs
    if (received !== null) this.host.onChange(received, this.applying, this.startedAt)
    else this.host.doc.once('update', this.onExactUpdate)
  }
}
