// What every accepted socket has, whichever framing it speaks (one document per socket, or many): its
// read gate (backpressure), the heartbeat flag, the slow-reader rule, the counted writes, and the close
// itself (draining on a restart, terminate, the code ws reported).
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { Metrics } from '../http/metrics.js'
import { Closes, closeReason } from '../protocol/close-codes.js'
import { nextMemberId } from './member-id.js'
import type { RateLimits } from './rate-budget.js'
import { ReadGate } from './read-gate.js'

export interface SocketContext {
  readonly metrics: Metrics
  readonly limits: { readonly maxBufferedBytes: number; readonly authTimeoutMs: number }
  readonly rate: RateLimits
}

/** The states every socket shares; each framing adds its own before 'open'. */
type Ending = 'open' | 'draining' | 'closing' | 'closed'

export abstract class SocketBase<State extends string> {
  readonly id = nextMemberId()
  readonly openedAt = Date.now()
  /** Set by the heartbeat; cleared by any pong or frame. */
  awaitingPong = false
  /** When the heartbeat last pinged it (ms since epoch). */
  pingedAt = 0
  /** Close deadline while no token was accepted yet (ms since epoch). */
  readonly authDeadline: number
  abstract state: State | Ending
  protected readonly gate: ReadGate
  private closeCode = 0
  // Buffered bytes that belong to whole-document frames (sync step 2) sent to this socket: a first sync
  // may be far larger than --max-buffered and must not count as falling behind while it drains.
  private wholeStateBytes = 0

  constructor(
    readonly ws: WebSocket,
    /** The socket under `ws`: broadcasts write their prebuilt frames to it directly. */
    private readonly socket: Duplex,
    private readonly base: SocketContext,
  ) {
    this.authDeadline = this.openedAt + base.limits.authTimeoutMs
    this.gate = new ReadGate(ws, base.rate, base.metrics, this.openedAt)
  }

  /** What leaving means for this framing (its room, or each of its documents). */
  protected abstract leave(): void
  /** Tells the gateway the socket is gone, with the code that closed it. */
  protected abstract reportClosed(code: number, reason: string): void

  /** Whether this socket takes messages now; one too far behind is closed here instead (1013). */
  protected writable(): boolean {
    const buffered = this.ws.bufferedAmount
    // Buffers drain in order, so what is left of a whole-document frame is at most what is buffered.
    if (this.wholeStateBytes > buffered) this.wholeStateBytes = buffered
    if (buffered - this.wholeStateBytes <= this.base.limits.maxBufferedBytes) return true
    this.close(Closes.tryAgainLater, 'client is not reading fast enough')
    // Its buffer is what we want to free: do not wait for a close handshake it will not read.
    setTimeout(() => this.ws.terminate(), 1000).unref()
    return false
  }

  /**
   * Writes one frame's payload and counts `bytes` of it. A `sharedWire` frame (built once for every member
   * of a broadcast) is written to the socket as it is: ws never queues frames here (no compression), so
   * writing to its socket keeps the order. `wholeState`: the payload is a sync step 2.
   */
  protected write(payload: Uint8Array, bytes: number, sharedWire: Buffer | null, wholeState: boolean): void {
    if (sharedWire !== null) {
      if (this.ws.readyState !== this.ws.OPEN) return
      this.socket.write(sharedWire)
    } else {
      this.ws.send(payload)
      // A sync step 2 is the document: everything buffered up to its end may drain at the client's pace.
      if (wholeState) this.wholeStateBytes = this.ws.bufferedAmount
    }
    this.base.metrics.framesOut++
    this.base.metrics.bytesOut += bytes
  }

  /**
   * Closes the socket. With `drain` (a restart), an open socket stays where it is until the client
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
      this.leave()
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
    this.gate.open()
    this.leave()
    this.reportClosed(this.closeCode || code, reason)
  }
}
