// Rooms by name: created and loaded exactly once on first use (synchronously, so clients arriving in
// the same millisecond share one load), unloaded a grace period after the last client leaves.
import type { DocumentStore } from '../../persistence/store.js'
import type { Logger } from '../logger.js'
import { type DocumentHandle, handleOn } from './document-handle.js'
import type { DocumentEvents } from './events.js'
import type { GroupCommit } from './group-commit.js'
import { Room, type RoomLimits, type RoomMember } from './room.js'

export interface RegistryOptions extends RoomLimits {
  maxRooms: number
  roomIdleMs: number
}

export class RoomRegistry {
  private readonly rooms = new Map<string, Room>()
  private readonly sweeper: NodeJS.Timeout
  private readonly unloading = new Set<Promise<void>>()
  /** Rooms whose storage is being deleted: none may load under that name until it is gone. */
  private readonly deleting = new Set<string>()

  constructor(
    private readonly store: DocumentStore,
    private readonly commit: GroupCommit<RoomMember>,
    private readonly options: RegistryOptions,
    private readonly log: Logger,
    /** One emitter for every room (closures per room would cost ~200 bytes each). */
    readonly events: DocumentEvents,
    private readonly onLoad?: ConstructorParameters<typeof Room>[6],
  ) {
    // A room that failed can no longer be trusted in memory: the next client loads it afresh.
    events.on('failed', ({ room }) => {
      if (this.rooms.get(room)?.state === 'failed') this.rooms.delete(room)
    })
    // One timer for all rooms rather than one per room.
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, options.roomIdleMs)))
    this.sweeper.unref()
  }

  get size(): number {
    return this.rooms.size
  }

  get(name: string): Room | undefined {
    return this.rooms.get(name)
  }

  names(): string[] {
    return [...this.rooms.keys()]
  }

  /** A loaded room held for server-side use (see document-handle.ts); rejects when it cannot load. */
  async open(name: string): Promise<DocumentHandle> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const room = this.acquire(name)
      if (room === null) throw new Error('the server holds its maximum number of rooms (--max-rooms)')
      await room.ready
      // It may have unloaded or failed while we waited: take the next one.
      if (room.state === 'ready' || room.state === 'unloading') return handleOn(room)
    }
    throw new Error(`room "${name}" could not be opened`)
  }

  /** The room, loading it if needed; null when the process already holds its maximum of rooms. */
  acquire(name: string): Room | null {
    if (this.deleting.has(name)) return null
    const existing = this.rooms.get(name)
    if (existing !== undefined && existing.state !== 'unloaded' && existing.state !== 'failed')
      return existing
    if (this.rooms.size >= this.options.maxRooms) {
      this.sweep(true)
      if (this.rooms.size >= this.options.maxRooms) return null
    }
    const room = new Room(name, this.store, this.commit, this.options, this.events, this.log, this.onLoad)
    this.rooms.set(name, room)
    return room
  }

  /**
   * Deletes a document: its members are closed with `code`, the room leaves memory without being written
   * back, then its storage is deleted. While that runs the name cannot load (acquire answers null).
   */
  async delete(name: string, code: number, reason: string): Promise<void> {
    this.deleting.add(name)
    try {
      const room = this.rooms.get(name)
      if (room !== undefined) {
        await room.discard(code, reason)
        this.forget(room)
      }
      await this.store.deleteRoom(name)
      this.log.info({ room: name, code }, 'document deleted')
    } finally {
      this.deleting.delete(name)
    }
    this.events.emit('deleted', { room: name, code, reason })
  }

  /**
   * Another node deleted the document: its members here are closed with `code` and the room leaves
   * memory without a write (the storage is gone already).
   */
  async evict(name: string, code: number, reason: string): Promise<void> {
    const room = this.rooms.get(name)
    if (room === undefined) return
    await room.discard(code, reason)
    this.forget(room)
  }

  /** Storage is suspect: every loaded room fails (its clients are closed and resend); loading rooms
   * are left to fail at their first write, which the halted group commit refuses. */
  failAll(error: Error): void {
    for (const room of [...this.rooms.values()]) {
      if (room.state === 'ready' || room.state === 'unloading') room.onPersistFailed(error)
    }
  }

  private forget(room: Room): void {
    if (this.rooms.get(room.name) === room) this.rooms.delete(room.name)
  }

  /** Unloads rooms empty for longer than the grace period (all empty rooms when `now` is set). */
  private sweep(now = false): void {
    const cutoff = Date.now() - (now ? 0 : this.options.roomIdleMs)
    for (const room of this.rooms.values()) {
      if (room.state !== 'ready' || room.emptySince === null || room.emptySince > cutoff) continue
      this.track(this.unloadRoom(room))
    }
  }

  private async unloadRoom(room: Room): Promise<void> {
    try {
      if (await room.unload()) {
        this.forget(room)
      }
    } catch (error) {
      this.log.error({ room: room.name, err: error }, 'room failed to unload')
    }
  }

  private track(work: Promise<void>): void {
    this.unloading.add(work)
    work.finally(() => this.unloading.delete(work))
  }

  /** Shutdown: closes every socket with `code`, writes and compacts every room, frees them all. */
  async closeAll(code: number, reason: string): Promise<void> {
    clearInterval(this.sweeper)
    const rooms = [...this.rooms.values()]
    await Promise.all(rooms.map((room) => room.shutdown(code, reason).catch(() => {})))
    await Promise.all(this.unloading)
    for (const room of rooms) this.forget(room)
  }
}
