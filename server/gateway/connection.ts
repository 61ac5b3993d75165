// One WebSocket for one document: its state (authenticating → joining → open → closed), the bounded
// queue of frames that arrive before it may act, its rate (slowed by backpressure, never closed for it),
// and clean closing.
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { AuthVerdict } from '../auth/verdict.js'
import type { Room, RoomMember } from '../documents/room.js'
import type { Metrics } from '../http/metrics.js'
import { Closes, closeReason } from '../protocol/close-codes.js'
import {
  decodeClientMessage,
  encodeAuthenticated,
  encodePermissionDenied,
  ProtocolError,
} from '../protocol/messages.js'
import { AdmissionQueue } from './admission-queue.js'
import { nextMemberId } from './member-id.js'
import type { RateLimits } from './rate-budget.js'
import { ReadGate } from './read-gate.js'
import { sharedFrame } from './ws-frame.js'

/** What a connection needs from the gateway that accepted it; shared by all connections. */
export interface ConnectionContext {
  readonly metrics: Metrics
  readonly limits: {
    maxBufferedBytes: number
    preAuthMaxFrames: number
    preAuthMaxBytes: number
    maxClientsPerRoom: number
    authTimeoutMs: number
  }
  readonly rate: RateLimits
  /** Verifies a token for this connection's room; null when auth is off. */
  readonly verify: ((token: string, connection: Connection) => Promise<AuthVerdict>) | null
  acquireRoom(name: string): Room | null
  onClosed(connection: Connection, code: number, reason: string): void
  logError(connection: Connection, error: unknown): string
}

// 'draining': closed by the server for a restart; frames the client sent before it saw the close are
// still applied, so a shutdown loses nothing that reached the socket.
type ConnectionState = 'authenticating' | 'verifying' | 'joining' | 'open' | 'draining' | 'closing' | 'closed'

export class Connection implements RoomMember {
  readonly id = nextMemberId()
  readonly openedAt = Date.now()
  state: ConnectionState
  canWrite = true
  lastUpdateSeq = 0
  userId: string | null = null
  room: Room | null = null
  /** Set by the heartbeat; cleared by any pong or frame. */
  awaitingPong = false
  /** Close deadline while authenticating (ms since epoch). */
  readonly authDeadline: number
  private queue: AdmissionQueue | null = null
  private readonly gate: ReadGate
  // Buffered bytes that belong to whole-document frames (sync step 2) sent to this socket: a first sync
  // may be far larger than --max-buffered and must not count as falling behind while it drains.
  private wholeStateBytes = 0
  private closeCode = 0

  constructor(
    readonly ws: WebSocket,
    /** The socket under `ws`: broadcasts write their prebuilt frames to it directly. */
    private readonly socket: Duplex,
    readonly roomName: string,
    readonly ip: string,
    private readonly ctx: ConnectionContext,
  ) {
    this.authDeadline = this.openedAt + ctx.limits.authTimeoutMs
    this.gate = new ReadGate(ws, ctx.rate, ctx.metrics, this.openedAt)
    const admitted = ctx.verify === null
    this.state = admitted ? 'joining' : 'authenticating'
    if (admitted) this.joinRoom()
  }

  /** A token that came in the URL query (only accepted with --allow-query-token). */
  receiveQueryToken(token: string): void {
    if (this.state === 'authenticating') this.authenticate(token)
  }

  /** Every frame from the socket. */
  receive(data: Uint8Array, isBinary: boolean): void {
    const metrics = this.ctx.metrics
    metrics.framesIn++
    metrics.bytesIn += data.byteLength
    this.awaitingPong = false
    if (this.state === 'closing' || this.state === 'closed') return
    if (this.state === 'draining') {
      if (isBinary) this.process(data)
      return
    }
    this.gate.spend(data.byteLength)
    if (!isBinary) {
      this.close(Closes.protocolError, 'text frames are not part of the protocol; send binary frames')
      return
    }
    if (this.state === 'open') {
      this.process(data)
      return
    }
    if (this.state === 'authenticating' && this.isTokenFrame(data)) return
    this.enqueue(data)
  }

  /** While authenticating: a token frame starts verification; returns false for any other frame. */
  private isTokenFrame(data: Uint8Array): boolean {
    // Token frames start with [2][0]; anything else waits in the queue for the verdict.
    if (data[0] !== 2 || data[1] !== 0) return false
    let token: string
    try {
      const message = decodeClientMessage(data)
      if (message.kind !== 'auth-token') return false
      token = message.token
    } catch (error) {
      this.close(error instanceof ProtocolError ? error.code : Closes.protocolError, (error as Error).message)
      return true
    }
    this.authenticate(token)
    return true
  }

  private authenticate(token: string): void {
    const verify = this.ctx.verify
    if (verify === null) return
    this.state = 'verifying'
    verify(token, this).then(
      (verdict) => {
        if (this.state !== 'verifying') return
        if (!verdict.ok) {
          // Permission-denied first: stock y-websocket clients report its reason.
          this.sendRaw(encodePermissionDenied(verdict.reason))
          this.close(verdict.code, verdict.reason)
          return
        }
        this.userId = verdict.userId
        this.canWrite = verdict.canWrite
        this.sendRaw(encodeAuthenticated(verdict.canWrite ? 'read-write' : 'readonly'))
        this.state = 'joining'
        this.joinRoom()
      },
      (error: unknown) => {
        const id = this.ctx.logError(this, error)
        this.close(Closes.internalError, `authentication failed on the server (error ${id})`)
      },
    )
  }

  /** Frames before the socket may act wait in order (admission-queue.ts). */
  private enqueue(data: Uint8Array): void {
    this.queue ??= new AdmissionQueue(this.ctx.limits)
    const verdict = this.queue.add(data)
    if (verdict === 'overflow')
      this.close(Closes.rateLimited, 'too much data before the token was verified; send the token first')
    else if (verdict === 'full') this.gate.holdForQueue()
  }

  private joinRoom(): void {
    const room = this.ctx.acquireRoom(this.roomName)
    if (room === null) {
      this.close(Closes.tryAgainLater, 'the server holds its maximum number of rooms; try again later')
      return
    }
    if (room.size >= this.ctx.limits.maxClientsPerRoom) {
      this.close(Closes.tryAgainLater, 'this room is full; try again later')
      return
    }
    this.room = room
    if (room.state === 'ready' || room.state === 'unloading') {
      this.enterRoom(room)
      return
    }
    room.ready.then(
      () => this.enterRoom(room),
      (error: unknown) => {
        if (this.state === 'closing' || this.state === 'closed') return
        const id = this.ctx.logError(this, error)
        this.close(
          Closes.internalError,
          `this document could not be loaded (error ${id}); its data is untouched`,
        )
      },
    )
  }

  private enterRoom(room: Room): void {
    if (this.state !== 'joining') return
    if (room.state !== 'ready' && room.state !== 'unloading') {
      // It failed or unloaded while we waited: start again with a fresh room.
      this.joinRoom()
      return
    }
    this.state = 'open'
    room.join(this)
    const queued = this.queue?.take() ?? []
    this.queue = null
    for (const frame of queued) if (this.state === 'open') this.process(frame)
    this.gate.releaseQueue()
  }

  private process(frame: Uint8Array): void {
    const room = this.room
    if (room === null) return
    try {
      room.handle(this, decodeClientMessage(frame))
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.close(error.code, error.message)
      } else {
        const id = this.ctx.logError(this, error)
        this.close(Closes.internalError, `internal error (error ${id})`)
      }
    }
  }

  /**
   * Sends a message to an admitted socket; a socket too far behind is closed instead (1013). A `shared`
   * message goes to many sockets now: its frame is built once and written to each socket as-is (ws never
   * queues frames here, no compression, so writing to its socket keeps the order).
   */
  send(message: Uint8Array, shared = false): void {
    if (!this.mayReceive()) return
    if (shared) {
      if (this.ws.readyState !== this.ws.OPEN) return
      this.socket.write(sharedFrame(message))
      this.ctx.metrics.framesOut++
      this.ctx.metrics.bytesOut += message.byteLength
      return
    }
    this.sendRaw(message)
    // A sync step 2 is the document: everything buffered up to its end may drain at the client's pace.
    if (message[0] === 0 && message[1] === 1) this.wholeStateBytes = this.ws.bufferedAmount
  }

  /** Whether this socket takes frames now; one too far behind is closed here instead (1013). */
  private mayReceive(): boolean {
    if (this.state !== 'open') return false
    const buffered = this.ws.bufferedAmount
    // Buffers drain in order, so what is left of a whole-document frame is at most what is buffered.
    if (this.wholeStateBytes > buffered) this.wholeStateBytes = buffered
    if (buffered - this.wholeStateBytes > this.ctx.limits.maxBufferedBytes) {
      this.close(Closes.tryAgainLater, 'client is not reading fast enough')
      // Its buffer is what we want to free: do not wait for a close handshake it will not read.
      setTimeout(() => this.ws.terminate(), 1000).unref()
      return false
    }
    return true
  }

  private sendRaw(frame: Uint8Array): void {
    this.ws.send(frame)
    this.ctx.metrics.framesOut++
    this.ctx.metrics.bytesOut += frame.byteLength
  }

  /**
   * Closes the socket. With `drain` (a restart), an open socket stays in its room until the client
   * answers the close: what it sent before it saw the close is still applied and stored.
   */
  close(code: number, reason: string, drain = false): void {
    if (this.state === 'closing' || this.state === 'closed' || this.state === 'draining') return
    this.closeCode = code
    this.gate.open()
    if (drain && this.state === 'open') {
      this.state = 'draining'
    } else {
      this.state = 'closing'
      this.queue = null
      this.leaveRoom()
    }
    this.ws.close(code, closeReason(reason))
  }

  /** Heartbeat found it dead, or shutdown: drop it without a handshake. */
  terminate(): void {
    if (this.closeCode === 0) this.closeCode = Closes.abnormal
    this.ws.terminate()
  }

  /** ws reported a protocol violation (bad RSV bits, oversized frame…) and is closing the socket. */
  noteSocketError(code: number): void {
    if (this.closeCode === 0) this.closeCode = code
  }

  /** The socket is gone (ws 'close' event). */
  closed(code: number, reason: string): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.queue = null
    this.gate.open()
    this.leaveRoom()
    this.ctx.onClosed(this, this.closeCode || code, reason)
  }

  private leaveRoom(): void {
    const room = this.room
    if (room === null) return
    this.room = null
    room.leave(this)
  }
}
