// The 'changed' and 'stored' events of one room: who made each change is noted when it is applied (only
// while anyone listens), and the change is announced with it once the batch holding it is on disk.
import type { DocumentEvents } from './events.js'
import { clientOrigin, type Origin } from './origin.js'

export class ChangeFeed {
  private pending: { seq: number; origins: Origin[] }[] = []

  constructor(
    private readonly room: string,
    private readonly events: DocumentEvents,
  ) {}

  /** The change at `seq` was made from what `senders` sent. */
  applied(seq: number, senders: Iterable<{ readonly id: number; readonly userId: string | null }>): void {
    if (this.events.has('changed')) this.pending.push({ seq, origins: [...senders].map(clientOrigin) })
  }

  /** The change at `seq` was made by `origin` (the server, another node). */
  appliedBy(seq: number, origin: Origin): void {
    if (this.events.has('changed')) this.pending.push({ seq, origins: [origin] })
  }

  /** The changes up to `lastSeq`, `updates` the last of them, are on disk. */
  persisted(lastSeq: number, updates: Uint8Array[]): void {
    const { events, pending, room } = this
    if (events.has('stored')) {
      let bytes = 0
      for (const update of updates) bytes += update.byteLength
      events.emit('stored', { room, updates: updates.length, bytes })
    }
    if (pending.length === 0 && !events.has('changed')) return
    let seq = lastSeq - updates.length
    for (const update of updates) {
      seq++
      const at = pending.length > 0 && pending[0].seq === seq ? pending.shift() : undefined
      events.emit('changed', { room, update, origins: at?.origins ?? [] })
    }
    while (pending.length > 0 && pending[0].seq <= lastSeq) pending.shift()
  }

  /** Changes another node made and stored: announced as they arrive, with that node as their origin. */
  relayed(updates: readonly Uint8Array[], origin: Origin): void {
    if (!this.events.has('changed')) return
    for (const update of updates) this.events.emit('changed', { room: this.room, update, origins: [origin] })
  }

  clear(): void {
    this.pending = []
  }
}
