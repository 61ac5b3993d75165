// Durable updates leave a room here, paced. A broadcast costs one send per member, so a busy room is
// paced to --room-frames-per-second (20,000): one broadcast every members/20 ms (10 ms for 200
// members), each carrying every update that became durable meanwhile. Rooms under 20 members, and
// quiet rooms, broadcast at once. Against members/40, hot-room bench (200 members), two runs each:
// server CPU at 200 updates/s 58-61 -> 39-40 %, at 10,000/s 81-86 -> 70-72 %; its p50 5.4-6.8 -> 7.7-9.6 ms.
import * as Y from 'yjs'
import { encodeUpdate } from '../protocol/messages.js'

export interface BroadcastMember {
  /** `shared`: the same message goes to many members (the gateway encodes its frame once). */
  send(message: Uint8Array, shared?: boolean): void
}

export class Broadcaster<Member extends BroadcastMember> {
  private outbox: Uint8Array[] = []
  // Who sent everything in the outbox (null: several senders, or none).
  private origin: Member | null = null
  private last = 0
  private timer: NodeJS.Timeout | null = null
  // When each applied, not yet broadcast, change's first update arrived: (seq, ms) pairs, oldest first.
  private relayClock: number[] = []

  constructor(
    private readonly members: ReadonlySet<Member>,
    private readonly framesPerSecond: number,
    private readonly onRelayed: (ms: number) => void,
    /** How far the room's changes are durable (what a broadcast may carry). */
    private readonly durableSeq: () => number,
  ) {}

  /** A change at `seq` was built from updates the first of which arrived at `receivedAt`. */
  received(seq: number, receivedAt: number): void {
    this.relayClock.push(seq, receivedAt)
  }

  /** Durable updates from `origin` (null: several); they leave with the next broadcast. */
  add(updates: Uint8Array[], origin: Member | null): void {
    this.origin = this.outbox.length === 0 || this.origin === origin ? origin : null
    for (const update of updates) this.outbox.push(update)
    this.schedule()
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.outbox = []
    this.relayClock = []
  }

  private schedule(): void {
    if (this.timer !== null) return
    const interval = (this.members.size * 1000) / this.framesPerSecond
    const wait = this.last + interval - performance.now()
    if (wait < 1) {
      this.broadcast()
      return
    }
    this.timer = setTimeout(() => {
      this.timer = null
      this.broadcast()
    }, wait)
  }

  private broadcast(): void {
    const updates = this.outbox
    if (updates.length === 0) return
    const origin = this.origin
    this.outbox = []
    this.origin = null
    this.last = performance.now()
    const clock = this.relayClock
    if (clock.length > 0) {
      this.onRelayed(this.last - clock[1])
      let done = 0
      const durable = this.durableSeq()
      while (done < clock.length && clock[done] <= durable) done += 2
      clock.splice(0, done)
    }
    // One message per frame (stock clients read only the first), the same bytes for every member.
    const message = encodeUpdate(updates.length === 1 ? updates[0] : Y.mergeUpdates(updates))
    for (const member of this.members) if (member !== origin) member.send(message, true)
  }
}
