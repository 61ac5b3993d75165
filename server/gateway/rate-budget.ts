// What one socket may send: a token bucket of frames and one of bytes, each with a burst. A socket over
// its budget is not closed: the connection stops reading it until the budget refills, so TCP flow
// control slows the sender and nothing it sent is lost or reordered.

export interface RateLimits {
  /** Frames per second once the burst is spent. */
  framesPerSecond: number
  frameBurst: number
  /** Bytes per second once the burst is spent. */
  bytesPerSecond: number
  byteBurst: number
}

export class RateBudget {
  private frames: number
  private bytes: number
  private refilledAt: number

  constructor(
    private readonly limits: RateLimits,
    now: number,
  ) {
    this.frames = limits.frameBurst
    this.bytes = limits.byteBurst
    this.refilledAt = now
  }

  /** Spends one frame of `size` bytes; returns how long to stop reading (ms), 0 while within budget. */
  spend(size: number, now: number): number {
    this.refill(now)
    this.frames -= 1
    this.bytes -= size
    return this.debtMs()
  }

  /** How long until the budget is out of debt (ms); 0 when it is. */
  waitMs(now: number): number {
    this.refill(now)
    return this.debtMs()
  }

  private debtMs(): number {
    const { framesPerSecond, bytesPerSecond } = this.limits
    const frameWait = this.frames < 0 ? (-this.frames * 1000) / framesPerSecond : 0
    const byteWait = this.bytes < 0 ? (-this.bytes * 1000) / bytesPerSecond : 0
    return Math.ceil(Math.max(frameWait, byteWait))
  }

  private refill(now: number): void {
    const elapsed = now - this.refilledAt
    if (elapsed <= 0) return
    this.refilledAt = now
    const { framesPerSecond, frameBurst, bytesPerSecond, byteBurst } = this.limits
    this.frames = Math.min(frameBurst, this.frames + (elapsed * framesPerSecond) / 1000)
    this.bytes = Math.min(byteBurst, this.bytes + (elapsed * bytesPerSecond) / 1000)
  }
}
