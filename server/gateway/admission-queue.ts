// Frames that arrive before a socket may act (before its token's verdict, or while its room loads),
// kept in order. A full queue asks the connection to stop reading the socket until it is admitted, so a
// stock client's burst is held, not refused; ws still hands over what it had read by then (one read of
// the socket). Only a queue past twice its byte bound (one frame far larger than --pre-auth-max-bytes,
// say) is refused: that memory is spent before anyone is known.

export interface AdmissionLimits {
  preAuthMaxFrames: number
  preAuthMaxBytes: number
}

export class AdmissionQueue {
  private frames: Uint8Array[] = []
  private bytes = 0

  constructor(private readonly limits: AdmissionLimits) {}

  /** Queues a frame: 'ok', 'full' (stop reading until admitted) or 'overflow' (refuse the socket). */
  add(frame: Uint8Array): 'ok' | 'full' | 'overflow' {
    this.bytes += frame.byteLength
    if (this.bytes > 2 * this.limits.preAuthMaxBytes) return 'overflow'
    this.frames.push(frame)
    const { preAuthMaxFrames, preAuthMaxBytes } = this.limits
    return this.frames.length >= preAuthMaxFrames || this.bytes >= preAuthMaxBytes ? 'full' : 'ok'
  }

  /** Everything queued, oldest first; the queue is empty afterwards. */
  take(): Uint8Array[] {
    const frames = this.frames
    this.frames = []
    this.bytes = 0
    return frames
  }
}
