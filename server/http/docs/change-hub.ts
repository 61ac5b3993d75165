// The changes of watched rooms, for the SSE feeds: one 'changed' subscription for the whole server,
// each watched room's recent changes in a bounded ring (for Last-Event-ID resumes), fanned out to its
// feeds. A ring outlives its last feed by ringKeepMs, so a client that reconnects resumes from it.
import type { DocumentEvents } from '../../documents/events.js'
import type { Origin } from '../../documents/origin.js'
import type { FeedLimits } from './deps.js'

export interface Change {
  /** Position in the room's ring; with the ring's epoch it is the SSE event id. */
  seq: number
  update: Uint8Array
  origins: readonly Origin[]
}

type Listener = (change: Change) => void

interface Ring {
  /** Differs for every ring (and every process), so an id from another one is never mistaken for ours. */
  readonly epoch: string
  seq: number
  changes: Change[]
  bytes: number
  readonly listeners: Set<{ onChange: Listener; onEnd: () => void }>
  idleTimer: NodeJS.Timeout | null
}

export interface Watch {
  /** The id of the last change this ring holds (or of its start). */
  lastId(): string
  seq(): number
  idOf(seq: number): string
  /** The changes after `id`, or null when the ring does not reach back to it (or never had it). */
  since(id: string): Change[] | null
  close(): void
}

let epochs = 0
const newEpoch = () => `${Date.now().toString(36)}${(epochs++).toString(36)}`

export class ChangeHub {
  private readonly rings = new Map<string, Ring>()
  private feeds = 0

  constructor(
    events: DocumentEvents,
    private readonly limits: FeedLimits,
  ) {
    events.on('changed', ({ room, update, origins }) => {
      const ring = this.rings.get(room)
      if (ring !== undefined) this.record(ring, update, origins)
    })
  }

  get openFeeds(): number {
    return this.feeds
  }

  /** Starts watching `room`: `onChange` gets each durable change, `onEnd` when the room is deleted. */
  watch(room: string, onChange: Listener, onEnd: () => void): Watch {
    const ring = this.ringOf(room)
    const entry = { onChange, onEnd }
    ring.listeners.add(entry)
    this.feeds++
    let closed = false
    return {
      lastId: () => `${ring.epoch}-${ring.seq}`,
      seq: () => ring.seq,
      idOf: (seq) => `${ring.epoch}-${seq}`,
      since: (id) => {
        const [epoch, at] = id.split('-')
        const seq = Number(at)
        if (epoch !== ring.epoch || !Number.isInteger(seq) || seq > ring.seq) return null
        const first = ring.changes[0]?.seq ?? ring.seq + 1
        if (seq < first - 1) return null
        return ring.changes.filter((change) => change.seq > seq)
      },
      close: () => {
        if (closed) return
        closed = true
        this.feeds--
        ring.listeners.delete(entry)
        if (ring.listeners.size === 0) this.keepIdle(room, ring)
      },
    }
  }

  /** The room was deleted: its feeds end and its ring goes (its ids will never resume). */
  endRoom(room: string): void {
    const ring = this.rings.get(room)
    if (ring === undefined) return
    this.rings.delete(room)
    if (ring.idleTimer !== null) clearTimeout(ring.idleTimer)
    for (const { onEnd } of [...ring.listeners]) onEnd()
  }

  private ringOf(room: string): Ring {
    let ring = this.rings.get(room)
    if (ring === undefined) {
      // Idle rings are kept for reconnects, but never more of them than twice the open feeds' bound.
      if (this.rings.size >= 2 * this.limits.maxFeeds) this.dropOldestIdle()
      ring = { epoch: newEpoch(), seq: 0, changes: [], bytes: 0, listeners: new Set(), idleTimer: null }
      this.rings.set(room, ring)
    } else if (ring.idleTimer !== null) {
      clearTimeout(ring.idleTimer)
      ring.idleTimer = null
    }
    return ring
  }

  private dropOldestIdle(): void {
    for (const [room, ring] of this.rings) {
      if (ring.listeners.size > 0) continue
      if (ring.idleTimer !== null) clearTimeout(ring.idleTimer)
      this.rings.delete(room)
      return
    }
  }

  private keepIdle(room: string, ring: Ring): void {
    ring.idleTimer = setTimeout(() => {
      if (this.rings.get(room) === ring && ring.listeners.size === 0) this.rings.delete(room)
    }, this.limits.ringKeepMs)
    ring.idleTimer.unref()
  }

  private record(ring: Ring, update: Uint8Array, origins: readonly Origin[]): void {
    const change = { seq: ++ring.seq, update, origins }
    ring.changes.push(change)
    ring.bytes += update.byteLength
    while (
      ring.changes.length > this.limits.ringChanges ||
      (ring.bytes > this.limits.ringBytes && ring.changes.length > 1)
    ) {
      ring.bytes -= (ring.changes.shift() as Change).update.byteLength
    }
    for (const { onChange } of ring.listeners) onChange(change)
  }
}
