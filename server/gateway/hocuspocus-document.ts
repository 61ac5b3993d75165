// One document on a Hocuspocus socket (Hocuspocus' Connection): a member of its room with its own auth
// state and access, created by the socket on the document's first frame and ended by the provider's
// close message for it or by the socket closing. It answers the Hocuspocus way: authenticated with its
// scope or permission denied (nothing of the document before a verdict), and a sync status for each
// update, sent only once that update is durable.
import * as Y from 'yjs'
import { clientOrigin } from '../documents/origin.js'
import type { Room, RoomMember } from '../documents/room.js'
import {
  encodeDocumentClose,
  encodeDocumentName,
  encodeHocuspocusAuthenticated,
  encodeHocuspocusPermissionDenied,
  encodeStateless,
  encodeSyncStatus,
  type HocuspocusClientMessage,
} from '../protocol/hocuspocus.js'
import type { HocuspocusContext, HocuspocusSocket } from './hocuspocus-socket.js'
import { nextMemberId } from './member-id.js'

type DocumentState = 'verifying' | 'joining' | 'open' | 'closed'

const SAVED = encodeSyncStatus(true)
const NOT_APPLIED = encodeSyncStatus(false)

/** Whether a read-only client's sync step 2 holds nothing the document lacks (then it is "saved"). */
function holdsNothingNew(doc: Y.Doc, update: Uint8Array): boolean {
  try {
    return Y.snapshotContainsUpdate(Y.snapshot(doc), update)
  } catch {
    return false
  }
}

export class HocuspocusDocument implements RoomMember {
  readonly id = nextMemberId()
  canWrite = true
  userId: string | null = null
  lastUpdateSeq = 0
  state: DocumentState = 'joining'
  private room: Room | null = null
  private readonly prefix: Uint8Array
  private queue: HocuspocusClientMessage[] = []
  private queuedBytes = 0
  private acks = 0
  private acksScheduled = false

  constructor(
    private readonly socket: HocuspocusSocket,
    /** The name its frames carry (the room, or room \0 session): what it is routed and answered by. */
    readonly key: string,
    /** The room it is a member of. */
    readonly name: string,
    private readonly ctx: HocuspocusContext,
  ) {
    this.prefix = encodeDocumentName(key)
  }

  /** The document's first frame: its token (auth on), or anything (open mode). */
  start(first: HocuspocusClientMessage, bytes: number): void {
    const verify = this.ctx.verify
    const request = this.socket.request
    if (verify !== null) {
      // The socket creates a document only on its token when auth is on; anything else is nobody's.
      if (first.kind !== 'auth-token' || request === null) {
        this.end()
        return
      }
      this.state = 'verifying'
      // A verdict that never comes (a hung hook) must not hold the document and its queue for ever.
      const timer = setTimeout(() => {
        if (this.state === 'verifying') this.deny('no verdict on the token in time; try again')
      }, this.ctx.limits.authTimeoutMs)
      timer.unref()
      verify(first.token, this.name, request).then(
        (verdict) => {
          clearTimeout(timer)
          if (this.state !== 'verifying') return
          if (!verdict.ok) {
            this.deny(verdict.reason)
            return
          }
          this.userId = verdict.userId
          this.canWrite = verdict.canWrite
          this.socket.admitted(verdict.userId)
          this.reply(encodeHocuspocusAuthenticated(verdict.canWrite ? 'read-write' : 'readonly'))
          this.join()
        },
        (error: unknown) => {
          clearTimeout(timer)
          if (this.state !== 'verifying') return
          const id = this.ctx.logError({ room: this.name, conn: this.id }, error)
          this.deny(`authentication failed on the server (error ${id})`)
        },
      )
      return
    }
    // Open mode: read-write at once; the provider's (maybe empty) token is answered like a verdict.
    if (first.kind === 'auth-token') this.reply(encodeHocuspocusAuthenticated('read-write'))
    else this.enqueue(first, bytes)
    this.join()
  }

  /** A frame for this document after its first. */
  receive(message: HocuspocusClientMessage, bytes: number): void {
    if (this.state === 'open') this.handle(message)
    else if (this.state !== 'closed' && message.kind !== 'auth-token') this.enqueue(message, bytes)
  }

  private enqueue(message: HocuspocusClientMessage, bytes: number): void {
    this.queue.push(message)
    this.queuedBytes += bytes
    this.socket.queued(bytes)
  }

  private takeQueue(): HocuspocusClientMessage[] {
    const queue = this.queue
    const bytes = this.queuedBytes
    this.queue = []
    this.queuedBytes = 0
    if (queue.length > 0) this.socket.dequeued(queue.length, bytes)
    return queue
  }

  private join(): void {
    this.state = 'joining'
    const room = this.ctx.acquireRoom(this.name)
    if (room === null) {
      this.closeDocument('the server holds its maximum number of rooms; try again later')
      return
    }
    if (room.size >= this.ctx.limits.maxClientsPerRoom) {
      this.closeDocument('this room is full; try again later')
      return
    }
    this.room = room
    if (room.state === 'ready' || room.state === 'unloading') {
      this.enter(room)
      return
    }
    room.ready.then(
      () => this.enter(room),
      (error: unknown) => {
        if (this.state !== 'joining') return
        const id = this.ctx.logError({ room: this.name, conn: this.id }, error)
        this.closeDocument(`this document could not be loaded (error ${id}); its data is untouched`)
      },
    )
  }

  private enter(room: Room): void {
    if (this.state !== 'joining') return
    if (room.state !== 'ready' && room.state !== 'unloading') {
      // It failed or unloaded while we waited: start again with a fresh room.
      this.join()
      return
    }
    this.state = 'open'
    room.join(this)
    try {
      for (const message of this.takeQueue()) if (this.state === 'open') this.handle(message)
    } catch (error) {
      this.socket.fail(error)
    }
  }

  private handle(message: HocuspocusClientMessage): void {
    const room = this.room
    if (room === null) return
    switch (message.kind) {
      case 'stateless':
        if (this.ctx.events.has('stateless'))
          this.ctx.events.emit('stateless', {
            room: this.name,
            origin: clientOrigin(this),
            payload: message.payload,
          })
        return
      case 'close':
        return
      case 'auth-token':
        // A provider re-sends its token on some reconnect paths: open mode answers again, auth mode
        // keeps the verdict it has.
        if (this.ctx.verify === null) this.send(encodeHocuspocusAuthenticated('read-write'))
        return
      case 'sync-step2':
      case 'sync-update':
        if (!this.canWrite) {
          // Hocuspocus' answer to a read-only client: "saved" only when there was nothing to save.
          const unchanged = message.kind === 'sync-step2' && holdsNothingNew(room.doc, message.update)
          this.send(unchanged ? SAVED : NOT_APPLIED)
          return
        }
        room.handle(this, message)
        this.acknowledgeWhenSaved()
        return
      default:
        room.handle(this, message)
    }
  }

  // One sync status per update, each sent once everything this document sent up to it is durable. They
  // leave after this turn's updates are applied (the group commit applies them in the same turn). While
  // some of its updates wait for missing dependencies none leaves: they are not stored, and they can be
  // applied only after a change of the room, which this document is sent (see send).
  private acknowledgeWhenSaved(more = 1): void {
    this.acks += more
    if (this.acksScheduled || this.acks === 0) return
    this.acksScheduled = true
    setImmediate(() => {
      this.acksScheduled = false
      const room = this.room
      if (this.state !== 'open' || room === null) return
      while (this.acks > 0 && room.sendWhenSaved(this, SAVED)) this.acks--
    })
  }

  send(message: Uint8Array, shared = false): void {
    if (this.state !== 'open') return
    this.socket.deliver(this.key, this.prefix, message, shared)
    // Another client's update may be what this document's held-back updates waited for.
    if (this.acks > 0 && message[0] === 0 && message[1] === 2) this.acknowledgeWhenSaved(0)
  }

  /** Sent before the document is open (its verdict) or as it ends. */
  private reply(message: Uint8Array): void {
    this.socket.deliver(this.key, this.prefix, message, false)
  }

  /**
   * From the room: a refusal of this document (44xx: too large, no access) closes the document only; any
   * other code asks the client to reconnect and resync (storage failing, restart, held-back updates, a bad
   * update), which a Hocuspocus provider does per socket, so the socket closes.
   */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return
    if (code >= 4000) this.closeDocument(reason)
    else this.socket.close(code, reason)
  }

  /** Permission denied for this document (the provider reports authenticationFailed). */
  private deny(reason: string): void {
    this.refuse(encodeHocuspocusPermissionDenied(reason), reason)
  }

  /** This document is no longer served on the socket (the provider reports a close). */
  private closeDocument(reason: string): void {
    this.refuse(encodeDocumentClose(reason), reason)
  }

  private refuse(message: Uint8Array, reason: string): void {
    this.ctx.log.info({ room: this.name, conn: this.id, socket: this.socket.id, reason }, 'document refused')
    this.reply(message)
    this.end()
  }

  /** The provider detached it, or the socket closes: out of its room, nothing more sent. */
  end(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.takeQueue()
    this.socket.removeDocument(this)
    const room = this.room
    this.room = null
    room?.leave(this)
  }
}

/** Sends a stateless message to the Hocuspocus documents among `members`; returns how many got it. */
export function sendStatelessTo(members: Iterable<RoomMember>, payload: string): number {
  const message = encodeStateless(payload)
  let sent = 0
  for (const member of members) {
    if (!(member instanceof HocuspocusDocument)) continue
    member.send(message, true)
    sent++
  }
  return sent
}
