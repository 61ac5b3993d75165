// The embedded default store: one LevelDB directory (layout in format.ts), one process.

import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import type { Level as LevelType } from 'level'
import {
  type Compaction,
  type DocumentStore,
  type ListOptions,
  newestFirst,
  type RoomInfo,
  type StoredRoom,
  type StoredVersion,
  StoreError,
  type VersionInfo,
  type WriteBatch,
  type WriteResult,
} from '../store.js'
import { openError, writeError } from './errors.js'
import {
  encodeSnapshot,
  logEnd,
  logKey,
  logPrefix,
  PROBE_KEY,
  positionOf,
  ROOMS_END,
  ROOMS_START,
  roomKey,
  snapshotKey,
} from './format.js'
import { endOf, KnownEnds, type LogEnds, readEnds, snapshotOf } from './log-ends.js'
import { decodeRoomInfo, encodeRoomInfo } from './room-info.js'
import { putVersionOps, readVersion, readVersionInfos, versionKeys } from './version-keys.js'

// require, not import: see server/commonjs.ts (an ESM import of CommonJS costs ~6 MB of RSS). Its own
// createRequire keeps persistence/ free of imports from server/.
const { Level } = createRequire(import.meta.url)('level') as typeof import('level')

// Bigger than one LevelDB log block (32 KiB): a probe that fits in a page the file already owns would
// pass on a disk with no room for a real batch.
const PROBE_BYTES = 64 * 1024

export class LevelStore implements DocumentStore {
  private readonly db: LevelType<string, Uint8Array>
  // Log ends, right because writes run one at a time (serial). The room index is not cached: every batch
  // writes it (see write).
  private readonly ends = new KnownEnds()
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    readonly location: string,
    /** fsync every batch: survives power loss, not only a crash of the process. */
    private readonly options: { syncWrites?: boolean } = {},
  ) {
    this.db = new Level<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view' })
  }

  get isOpen(): boolean {
    return this.db.status === 'open'
  }

  async open(): Promise<void> {
    this.ends.forgetAll()
    try {
      await this.db.open()
    } catch (error) {
      throw openError(this.location, error)
    }
  }

  async load(room: string): Promise<StoredRoom> {
    const generation = this.ends.generation
    // Both reads from one snapshot of the database: a compaction between them would look like a gap.
    const view = this.db.snapshot()
    try {
      const [indexed, stored] = await this.db.getMany([roomKey(room), snapshotKey(room)], { snapshot: view })
      let snapshot: Uint8Array | null = null
      let snapshotThrough = -1
      if (stored !== undefined) {
        const decoded = snapshotOf(room, stored)
        snapshot = decoded.update
        snapshotThrough = decoded.through
      }
      const updates: Uint8Array[] = []
      let logBytes = 0
      let position = Math.max(snapshotThrough, 0)
      // Entries at or before the snapshot's position are inside it (left by a compaction of older plait
      // that could not delete them): skipped, but they take storage until a compaction deletes them.
      let staleBytes = 0
      for await (const [key, value] of this.db.iterator({
        gte: logPrefix(room),
        lt: logEnd(room),
        snapshot: view,
      })) {
        const at = positionOf(room, key)
        if (at <= snapshotThrough) {
          staleBytes += value.byteLength
          continue
        }
        if (at !== position + 1) {
          throw new StoreError(
            `the update log of room "${room}" has a gap: expected update ${position + 1}, found ${at}`,
            'corrupt',
          )
        }
        position = at
        updates.push(value)
        logBytes += value.byteLength
      }
      // What this load read is the log end unless a write or delete may have moved it meanwhile.
      this.ends.rememberIfUnchanged(generation, room, {
        next: position + 1,
        snapshotThrough,
        logBytes: logBytes + staleBytes,
        snapshotBytes: stored?.byteLength ?? 0,
        lastChange: indexed === undefined ? null : decodeRoomInfo(indexed).lastChange,
      })
      const exists = indexed !== undefined || snapshot !== null || updates.length > 0
      return { exists, snapshot, updates, position, logBytes }
    } finally {
      await view.close()
    }
  }

  write(batch: WriteBatch): Promise<WriteResult> {
    if (batch.appends.length === 0 && batch.compactions.length === 0)
      return Promise.resolve({ positions: [] })
    return this.serial(() => this.writeNow(batch))
  }

  private async writeNow(batch: WriteBatch): Promise<WriteResult> {
    const ends = new Map<string, LogEnds>()
    try {
      const unknown = new Set<string>()
      const see = (room: string) => {
        if (ends.has(room) || unknown.has(room)) return
        const end = this.ends.get(room)
        if (end === undefined) unknown.add(room)
        else ends.set(room, end)
      }
      for (const { room } of batch.appends) see(room)
      for (const { room } of batch.compactions) see(room)
      if (unknown.size > 0) {
        const read = await Promise.all(
          [...unknown].map(async (room) => [room, await readEnds(this.db, room)] as const),
        )
        for (const [room, end] of read) ends.set(room, end)
      }
      // One compaction per room, the one covering most; the log entries it covers are read first, so the
      // batch is built in one go.
      const compactions = new Map<string, { compaction: Compaction; covered: string[]; bytes: number }>()
      for (const compaction of batch.compactions) {
        const { room, through } = compaction
        const newest = Math.max(
          endOf(ends, room).snapshotThrough,
          compactions.get(room)?.compaction.through ?? -1,
        )
        // An older snapshot than the stored one would lose what the newer one covers.
        if (through < newest) continue
        const covered: string[] = []
        let bytes = 0
        for await (const [key, value] of this.db.iterator({
          gte: logPrefix(room),
          lte: logKey(room, through),
        })) {
          covered.push(key)
          bytes += value.byteLength
        }
        compactions.set(room, { compaction, covered, bytes })
      }
      // A chained batch hands each operation to LevelDB as it is added. The array form keeps a copy of
      // every operation alive until the write completes, and V8 learns to allocate those copies in the old
      // generation: ~1 MB/s of old-space garbage at 1,000 updates/s, and a full GC every ~20 s.
      const chained = this.db.batch()
      for (const [room, { compaction, covered, bytes }] of compactions) {
        const snapshot = encodeSnapshot(compaction.through, compaction.snapshot)
        chained.put(snapshotKey(room), snapshot)
        for (const key of covered) chained.del(key)
        const end = endOf(ends, room)
        end.snapshotThrough = compaction.through
        end.next = Math.max(end.next, compaction.through + 1)
        end.logBytes -= bytes
        end.snapshotBytes = snapshot.byteLength
      }
      const positions = new Array<number>(batch.appends.length)
      const now = Date.now()
      batch.appends.forEach(({ room, update }, i) => {
        const end = endOf(ends, room)
        positions[i] = end.next++
        chained.put(logKey(room, positions[i]), update)
        end.logBytes += update.byteLength
        end.lastChange = now
      })
      // The index key goes with every batch that touches a room: what makes a room listed is then the
      // batch itself, never what some writer believes it wrote before. Its value is the room's info.
      for (const [room, end] of ends)
        chained.put(roomKey(room), encodeRoomInfo(end.logBytes + end.snapshotBytes, end.lastChange))
      await chained.write({ sync: this.options.syncWrites === true })
      for (const [room, end] of ends) this.ends.remember(room, end)
      return { positions }
    } catch (error) {
      // The log ends were moved for a batch that is not on disk: read them again next time.
      for (const room of ends.keys()) this.ends.forget(room)
      if (error instanceof StoreError) throw error
      throw writeError(this.location, 'writing', error)
    }
  }

  /** Runs writes and deletes one at a time, in call order, so log ends are read and moved by one. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task)
    this.queue = run.catch(() => {})
    return run
  }

  async checkWritable(): Promise<void> {
    const value = randomBytes(PROBE_BYTES)
    try {
      await this.db.put(PROBE_KEY, value, { sync: true })
      const stored = await this.db.get(PROBE_KEY)
      if (stored === undefined || !value.equals(stored)) throw new Error('the probe read back differently')
    } catch (error) {
      throw new StoreError(`${this.location} cannot keep a write: ${(error as Error).message}`, 'io', {
        cause: error,
      })
    }
  }

  async listRooms(options: ListOptions = {}): Promise<string[]> {
    const rooms: string[] = []
    const start = options.after === undefined ? { gte: ROOMS_START } : { gt: roomKey(options.after) }
    for await (const key of this.db.keys({ ...start, lt: ROOMS_END, limit: options.limit ?? -1 })) {
      rooms.push(key.slice(ROOMS_START.length))
    }
    return rooms
  }

  async hasRoom(room: string): Promise<boolean> {
    return (await this.db.get(roomKey(room))) !== undefined
  }

  async describeRooms(rooms: readonly string[]): Promise<Map<string, RoomInfo>> {
    const values = await this.db.getMany(rooms.map(roomKey))
    const infos = new Map<string, RoomInfo>()
    rooms.forEach((room, i) => {
      const value = values[i]
      if (value !== undefined) infos.set(room, decodeRoomInfo(value))
    })
    return infos
  }

  deleteRoom(room: string): Promise<void> {
    return this.serial(async () => {
      const keys = [roomKey(room), snapshotKey(room), ...(await versionKeys(this.db, room))]
      for await (const key of this.db.keys({ gte: logPrefix(room), lt: logEnd(room) })) keys.push(key)
      try {
        await this.db.batch(keys.map((key) => ({ type: 'del' as const, key })))
      } finally {
        // After the delete, so that a load which read the room before it does not remember it.
        this.ends.forget(room)
      }
    })
  }

  async saveVersion(room: string, version: StoredVersion): Promise<void> {
    // Serial with deleteRoom, so a version saved during a delete is either deleted or kept whole.
    const ops = putVersionOps(room, version)
    await this.serial(async () => {
      try {
        await this.db.batch(ops, { sync: this.options.syncWrites === true })
      } catch (error) {
        throw writeError(this.location, 'saving a version', error)
      }
    })
  }

  async listVersions(room: string): Promise<VersionInfo[]> {
    return (await readVersionInfos(this.db, room)).sort(newestFirst)
  }

  loadVersion(room: string, id: string): Promise<StoredVersion | null> {
    return readVersion(this.db, room, id)
  }

  async close(): Promise<void> {
    // Reopened, LevelDB may have lost writes it accepted (see store-health.ts): read log ends again.
    this.ends.forgetAll()
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close()
  }
}
