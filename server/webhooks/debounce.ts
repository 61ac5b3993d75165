// Per-room batching: a room's event goes out `debounceMs` after its last change, but never later than
// `maxWaitMs` after the first change of the batch, so a room edited without pause still reports.

import type { Origin } from '../documents/origin.js'
import { addChange, type ChangeBatch, newBatch } from './payload.js'

interface Pending {
  batch: ChangeBatch
  due: number
  timer: NodeJS.Timeout
}

export class RoomDebouncer {
  private readonly pending = new Map<string, Pending>()

  constructor(
    private readonly debounceMs: number,
    private readonly maxWaitMs: number,
    private readonly onBatch: (batch: ChangeBatch) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.pending.size
  }

  /** Runs on the document path: a map lookup and a few assignments, never a timer reset per change. */
  add(room: string, origins: readonly Origin[]): void {
    const now = this.now()
    let entry = this.pending.get(room)
    if (entry === undefined) {
      const batch = newBatch(room, now)
      const due = now + Math.min(this.debounceMs, this.maxWaitMs)
      entry = { batch, due, timer: this.timer(room, due - now) }
      this.pending.set(room, entry)
    }
    addChange(entry.batch, origins, now)
    // The timer is not moved: when it fires early it re-arms for the later due time.
    entry.due = Math.min(now + this.debounceMs, entry.batch.firstChangeAt + this.maxWaitMs)
  }

  /** Hands over every open batch now (at shutdown). */
  flushAll(): void {
    for (const room of [...this.pending.keys()]) this.flush(room)
  }

  private fire(room: string): void {
    const entry = this.pending.get(room)
    if (entry === undefined) return
    const wait = entry.due - this.now()
    if (wait > 0) {
      entry.timer = this.timer(room, wait)
      return
    }
    this.flush(room)
  }

  /** Capped at setTimeout's longest delay (~24.8 days): past it, the timer would fire at once, in a loop. */
  private timer(room: string, ms: number): NodeJS.Timeout {
    return setTimeout(() => this.fire(room), Math.min(ms, 2 ** 31 - 1))
  }

  private flush(room: string): void {
    const entry = this.pending.get(room)
    if (entry === undefined) return
    clearTimeout(entry.timer)
    this.pending.delete(room)
    this.onBatch(entry.batch)
  }
}
