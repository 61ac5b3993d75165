// When each loaded room last changed, from the 'changed' events: what the room list reports for a loaded
// room without reading storage (rooms not in memory, or unchanged since they loaded, report what the store
// records, describeRooms). A room forgets it when it unloads, which bounds this map by --max-rooms.
import type { DocumentEvents } from '../../documents/events.js'

export class LastChange {
  private readonly times = new Map<string, number>()

  constructor(events: DocumentEvents) {
    events.on('changed', ({ room }) => this.times.set(room, Date.now()))
    events.on('unloaded', ({ room }) => this.times.delete(room))
  }

  /** Milliseconds since the epoch of the room's last durable change since it loaded, or null. */
  of(room: string): number | null {
    return this.times.get(room) ?? null
  }
}
