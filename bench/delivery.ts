// Fan-out accounting for one measurement window: what was sent, what arrived where, and how late.
import { Histogram } from './histogram.js'

export class DeliveryTracker {
  readonly latency = new Histogram()
  sent = 0
  expected = 0
  delivered = 0
  /** Markers that arrived at a receiver after a later one from the same sender (counted as not delivered). */
  outOfOrder = 0
  /** Per sender, the first and last seq sent in this window. */
  private readonly window = new Map<number, { from: number; to: number }>()
  /** Per receiver, per sender, the highest seq seen. */
  private readonly seen = new Map<number, Map<number, number>>()

  /** Record one update sent by `sender` with `seq`, which `receivers` other clients should get. */
  onSent(sender: number, seq: number, receivers: number): void {
    this.sent++
    this.expected += receivers
    const w = this.window.get(sender)
    if (w === undefined) this.window.set(sender, { from: seq, to: seq })
    else w.to = seq
  }

  /** Record a marker found at `receiver`; returns false when it is outside this window or a repeat. */
  onMarker(receiver: number, sender: number, seq: number, latencyMicros: number): boolean {
    const w = this.window.get(sender)
    if (w === undefined || seq < w.from || seq > w.to) return false
    let bySender = this.seen.get(receiver)
    if (bySender === undefined) {
      bySender = new Map()
      this.seen.set(receiver, bySender)
    }
    const last = bySender.get(sender) ?? 0
    if (seq <= last) {
      this.outOfOrder++
      return false
    }
    bySender.set(sender, seq)
    this.delivered++
    this.latency.record(latencyMicros)
    return true
  }

  get complete(): boolean {
    return this.delivered >= this.expected
  }

  get deliveryRatio(): number {
    return this.expected === 0 ? 1 : this.delivered / this.expected
  }
}
