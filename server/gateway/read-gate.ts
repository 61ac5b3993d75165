// When a socket is read: a socket over its rate budget, or whose pre-admission queue is full, is paused
// (ws stops reading it) instead of closed, so TCP flow control slows its sender and nothing it sent is
// lost or reordered. Paused time is counted in /metrics.
import type { WebSocket } from 'ws'
import type { Metrics } from '../http/metrics.js'
import { RateBudget, type RateLimits } from './rate-budget.js'

export class ReadGate {
  private readonly budget: RateBudget
  private pausedAt = 0
  private heldForQueue = false
  private resumeTimer: NodeJS.Timeout | null = null

  constructor(
    private readonly ws: WebSocket,
    limits: RateLimits,
    private readonly metrics: Metrics,
    now: number,
  ) {
    this.budget = new RateBudget(limits, now)
  }

  /** Counts one received frame against the budget; past it, stops reading until the budget refills. */
  spend(size: number): void {
    const wait = this.budget.spend(size, Date.now())
    if (wait === 0 || this.resumeTimer !== null) return
    this.pause()
    this.resumeTimer = setTimeout(() => this.afterWait(), wait)
  }

  /** Stops reading until releaseQueue (the pre-admission queue is full). */
  holdForQueue(): void {
    this.heldForQueue = true
    this.pause()
  }

  releaseQueue(): void {
    this.heldForQueue = false
    this.resume()
  }

  /** Reads again whatever the budget says: the socket is closing and what it sent must reach us. */
  open(): void {
    if (this.resumeTimer !== null) clearTimeout(this.resumeTimer)
    this.resumeTimer = null
    this.heldForQueue = false
    this.resume()
  }

  private afterWait(): void {
    this.resumeTimer = null
    // Frames ws had already read when the socket paused were still taken: wait until that debt is paid.
    const wait = this.budget.waitMs(Date.now())
    if (wait > 0) this.resumeTimer = setTimeout(() => this.afterWait(), wait)
    else this.resume()
  }

  private pause(): void {
    if (this.pausedAt !== 0) return
    this.pausedAt = Date.now()
    this.metrics.socketPauses++
    this.ws.pause()
  }

  private resume(): void {
    if (this.pausedAt === 0 || this.heldForQueue || this.resumeTimer !== null) return
    this.metrics.pausedMs += Date.now() - this.pausedAt
    this.pausedAt = 0
    this.ws.resume()
  }
}
