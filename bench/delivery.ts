// Fan-out accounting for one measurement window: what was sent, what arrived where, and how late.
// Called for every marker every receiver finds (millions per second in a hot room), so state lives in
// typed arrays indexed by client id: no Map lookups, no allocation once the arrays have grown.
import { Histogram } from './histogram.js'

/** A copy of `array` with room for index `index` (capacity doubled), zero-filled. */
function grown(array: Int32Array, index: number): Int32Array<ArrayBuffer> {
  let capacity = Math.max(array.length, 16)
  while (capacity <= index) capacity *= 2
  const next = new Int32Array(capacity)
  next.set(array)
  return next
}

export class DeliveryTracker {
  readonly latency = new Histogram()
  sent = 0
  expected = 0
  delivered = 0
  /** Markers that arrived at a receiver after a later one from the same sender (counted as not delivered). */
  outOfOrder = 0
  /** Per sender id, the first and last seq sent in this window (seqs start at 1; 0 = nothing sent). */
  private windowFrom: Int32Array<ArrayBuffer> = new Int32Array(0)
  private windowTo: Int32Array<ArrayBuffer> = new Int32Array(0)
  /** Per receiver id, per sender id, the highest seq seen. */
  private readonly seen: Array<Int32Array | undefined> = []

  /** Record one update sent by `sender` with `seq`, which `receivers` other clients should get. */
  onSent(sender: number, seq: number, receivers: number): void {
    this.sent++
    this.expected += receivers
    if (sender >= this.windowFrom.length) {
      this.windowFrom = grown(this.windowFrom, sender)
      this.windowTo = grown(this.windowTo, sender)
    }
    if (this.windowFrom[sender] === 0) this.windowFrom[sender] = seq
    this.windowTo[sender] = seq
  }

  /** Record a marker found at `receiver`; returns false when it is outside this window or a repeat. */
  onMarker(receiver: number, sender: number, seq: number, latencyMicros: number): boolean {
    if (sender >= this.windowFrom.length) return false
    const from = this.windowFrom[sender]
    if (from === 0 || seq < from || seq > this.windowTo[sender]) return false
    let bySender = this.seen[receiver]
    if (bySender === undefined || sender >= bySender.length) {
      bySender = grown(bySender ?? new Int32Array(0), Math.max(sender, this.windowFrom.length - 1))
      this.seen[receiver] = bySender
    }
    if (seq <= bySender[sender]) {
      this.outOfOrder++
      return false
    }
    bySender[sender] = seq
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
