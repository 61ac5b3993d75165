// A store that keeps everything in memory: for tests, and for embedders who want no disk (nothing
// survives the process, so "durable before anyone sees it" becomes "stored before anyone sees it").
//
// Several MemoryStore objects on one MemoryDatabase are several writers on one database, as two nodes of a
// cluster would be. Each operation runs synchronously on the shared state, so each is atomic, and
// positions come from one counter for the whole database (like a SQL sequence): a room's positions
// increase but skip, as the contract allows, so nothing that works here relies on consecutive ones.

import {
  compareRoomNames,
  type DocumentStore,
  type ListOptions,
  newestFirst,
  type RoomInfo,
  type StoredRoom,
  type StoredVersion,
  StoreError,
  type VersionInfo,
  versionIdProblem,
  type WriteBatch,
  type WriteResult,
} from '../store.js'

interface MemoryRoom {
  snapshot: Uint8Array | null
  /** The position the snapshot covers through; -1 without one. */
  snapshotThrough: number
  log: { position: number; update: Uint8Array }[]
  /** When a batch last appended to the room (ms); null before any did. */
  lastChange: number | null
}

/** Where a name is in the sorted list, or where it would go (binary search). */
function indexOf(names: string[], name: string): { index: number; found: boolean } {
  let low = 0
  let high = names.length
  while (low < high) {
    const middle = (low + high) >>> 1
    const order = compareRoomNames(names[middle], name)
    if (order === 0) return { index: middle, found: true }
    if (order < 0) low = middle + 1
    else high = middle
  }
  return { index: low, found: false }
}

/** The data several MemoryStores can share. A Map, so names such as `__proto__` are ordinary keys. */
export class MemoryDatabase {
  private readonly rooms = new Map<string, MemoryRoom>()
  // Every room name in listRooms order, kept sorted as rooms come and go.
  private readonly names: string[] = []
  private lastPosition = 0
  // Apart from `rooms`: versions outlive every compaction and do not make a room exist.
  private readonly versions = new Map<string, Map<string, StoredVersion>>()

  load(name: string): StoredRoom {
    const room = this.rooms.get(name)
    if (room === undefined) return { exists: false, snapshot: null, updates: [], position: 0, logBytes: 0 }
    const updates = room.log.map((entry) => entry.update)
    const last = room.log.at(-1)?.position ?? 0
    return {
      exists: true,
      snapshot: room.snapshot,
      updates,
      position: Math.max(last, room.snapshotThrough, 0),
      logBytes: updates.reduce((sum, update) => sum + update.byteLength, 0),
    }
  }

  write(batch: WriteBatch): WriteResult {
    for (const { room: name, snapshot, through } of batch.compactions) {
      const room = this.roomOf(name)
      // An older snapshot than the stored one would lose what the newer one covers.
      if (through < room.snapshotThrough) continue
      room.snapshot = snapshot.slice()
      room.snapshotThrough = through
      room.log = room.log.filter((entry) => entry.position > through)
      this.lastPosition = Math.max(this.lastPosition, through)
    }
    // Copies: the caller may reuse its buffers, as it may with a store that writes them out.
    const now = Date.now()
    const positions = batch.appends.map(({ room: name, update }) => {
      const position = ++this.lastPosition
      const room = this.roomOf(name)
      room.log.push({ position, update: update.slice() })
      room.lastChange = now
      return position
    })
    return { positions }
  }

  listRooms({ after, limit }: ListOptions = {}): string[] {
    let start = 0
    if (after !== undefined) {
      const { index, found } = indexOf(this.names, after)
      start = found ? index + 1 : index
    }
    return this.names.slice(start, limit === undefined ? undefined : start + limit)
  }

  hasRoom(name: string): boolean {
    return this.rooms.has(name)
  }

  describeRooms(names: readonly string[]): Map<string, RoomInfo> {
    const infos = new Map<string, RoomInfo>()
    for (const name of names) {
      const room = this.rooms.get(name)
      if (room === undefined) continue
      const log = room.log.reduce((sum, entry) => sum + entry.update.byteLength, 0)
      infos.set(name, { bytes: (room.snapshot?.byteLength ?? 0) + log, lastChange: room.lastChange })
    }
    return infos
  }

  saveVersion(room: string, version: StoredVersion): void {
    const problem = versionIdProblem(version.id)
    if (problem !== null) throw new Error(problem)
    let versions = this.versions.get(room)
    if (versions === undefined) {
      versions = new Map()
      this.versions.set(room, versions)
    }
    versions.set(version.id, { ...version, snapshot: version.snapshot.slice() })
  }

  listVersions(room: string): VersionInfo[] {
    const versions = [...(this.versions.get(room)?.values() ?? [])]
    return versions.map(({ snapshot, ...info }) => ({ ...info, size: snapshot.byteLength })).sort(newestFirst)
  }

  loadVersion(room: string, id: string): StoredVersion | null {
    const version = this.versions.get(room)?.get(id)
    return version === undefined ? null : { ...version, snapshot: version.snapshot.slice() }
  }

  deleteRoom(name: string): void {
    this.versions.delete(name)
    if (!this.rooms.delete(name)) return
    this.names.splice(indexOf(this.names, name).index, 1)
  }

  private roomOf(name: string): MemoryRoom {
    let room = this.rooms.get(name)
    if (room === undefined) {
      room = { snapshot: null, snapshotThrough: -1, log: [], lastChange: null }
      this.rooms.set(name, room)
      this.names.splice(indexOf(this.names, name).index, 0, name)
    }
    return room
  }
}

export class MemoryStore implements DocumentStore {
  private open_ = false

  /** Pass another store's `database` to get a second writer on the same data. */
  constructor(readonly database: MemoryDatabase = new MemoryDatabase()) {}

  get isOpen(): boolean {
    return this.open_
  }

  async open(): Promise<void> {
    this.open_ = true
  }

  async load(room: string): Promise<StoredRoom> {
    this.mustBeOpen()
    return this.database.load(room)
  }

  async write(batch: WriteBatch): Promise<WriteResult> {
    this.mustBeOpen()
    return this.database.write(batch)
  }

  async listRooms(options?: ListOptions): Promise<string[]> {
    this.mustBeOpen()
    return this.database.listRooms(options)
  }

  async hasRoom(room: string): Promise<boolean> {
    this.mustBeOpen()
    return this.database.hasRoom(room)
  }

  async describeRooms(rooms: readonly string[]): Promise<Map<string, RoomInfo>> {
    this.mustBeOpen()
    return this.database.describeRooms(rooms)
  }

  async deleteRoom(room: string): Promise<void> {
    this.mustBeOpen()
    this.database.deleteRoom(room)
  }

  async saveVersion(room: string, version: StoredVersion): Promise<void> {
    this.mustBeOpen()
    this.database.saveVersion(room, version)
  }

  async listVersions(room: string): Promise<VersionInfo[]> {
    this.mustBeOpen()
    return this.database.listVersions(room)
  }

  async loadVersion(room: string, id: string): Promise<StoredVersion | null> {
    this.mustBeOpen()
    return this.database.loadVersion(room, id)
  }

  async checkWritable(): Promise<void> {
    this.mustBeOpen()
  }

  async close(): Promise<void> {
    this.open_ = false
  }

  private mustBeOpen(): void {
    if (!this.open_) throw new StoreError('the memory store is closed', 'io')
  }
}
