// One WebSocket for one document: its state (authenticating → joining → open → closed), the bounded
// queue of frames that arrive before it may act, its rate (slowed by backpressure, never closed for it),
// and clean closing.
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { AuthVerdict } from '../auth/verdict.js'
import type { Room, RoomMember } from '../documents/room.js'
import type { Metrics } from '../http/metrics.js'
import { Closes } from '../protocol/close-codes.js'
import {
  decodeClientMessage,
  encodeAuthenticated,
  encodePermissionDenied,
  ProtocolError,
} from '../protocol/messages.js'
import { AdmissionQueue } from './admission-queue.js'
import type { RateLimits } from './rate-budget.js'
import { SocketBase } from './socket-base.js'
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

export class Connection extends SocketBase<ConnectionState> implements RoomMember {
  state: ConnectionState
  canWrite = true
  lastUpdateSeq = 0
  userId: string | null = null
  room: Room | null = null
  private queue: AdmissionQueue | null = null

  constructor(
    ws: WebSocket,
    socket: Duplex,
    readonly roomName: string,
    readonly ip: string,
    private readonly ctx: ConnectionContext,
  ) {
    super(ws, socket, ctx)
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

  /** Sends a message to an admitted socket; `shared`: the same message goes to many sockets now. */
  send(message: Uint8Array, shared = false): void {
    if (this.state !== 'open' || !this.writable()) return
    const wholeState = message[0] === 0 && message[1] === 1
    this.write(message, message.byteLength, shared ? sharedFrame(message) : null, wholeState)
  }

  private sendRaw(frame: Uint8Array): void {
    this.write(frame, frame.byteLength, null, false)
  }

  protected leave(): void {
    this.queue = null
    const room = this.room
    if (room === null) return
    this.room = null
    room.leave(this)
  }

  protected reportClosed(code: number, reason: string): void {
    this.ctx.onClosed(this, code, reason)
  }
}
