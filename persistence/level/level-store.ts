// The embedded default store: one LevelDB directory per process.
//
// Keys (room names never contain control characters, so NUL separates fields unambiguously):
//   r\0<room>            the room exists (an index, so listing rooms never scans the logs)
//   s\0<room>            snapshot: [format 1][varUint throughSeq][Yjs update]
//   l\0<room>\0<seq>     one update; seq is 12 hex digits so keys sort in append order
//   p\0probe            written by checkWritable (outside every room's ranges)

import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import type { Level as LevelType } from 'level'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { type DocumentStore, type StoredRoom, StoreError, type WriteBatch } from '../store.js'

// require, not import: see server/commonjs.ts (an ESM import of CommonJS costs ~6 MB of RSS). Its own
// createRequire keeps persistence/ free of imports from server/.
const { Level } = createRequire(import.meta.url)('level') as typeof import('level')

const SNAPSHOT_FORMAT = 1
const SEQ_DIGITS = 12

const roomKey = (room: string) => `r\0${room}`
const snapshotKey = (room: string) => `s\0${room}`
const logPrefix = (room: string) => `l\0${room}\0`
const logKey = (room: string, seq: number) => logPrefix(room) + seq.toString(16).padStart(SEQ_DIGITS, '0')

type Op = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

const EMPTY = new Uint8Array(0)
const PROBE_KEY = 'p\0probe'
// Bigger than one LevelDB log block (32 KiB): a probe that fits in a page the file already owns would
// pass on a disk with no room for a real batch.
const PROBE_BYTES = 64 * 1024

export function encodeSnapshot(throughSeq: number, update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeUint8(encoder, SNAPSHOT_FORMAT)
  encoding.writeVarUint(encoder, throughSeq)
  encoding.writeUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

export function decodeSnapshot(bytes: Uint8Array): { throughSeq: number; update: Uint8Array } {
  const decoder = decoding.createDecoder(bytes)
  const format = decoding.readUint8(decoder)
  if (format !== SNAPSHOT_FORMAT) throw new Error(`unknown snapshot format ${format}`)
  const throughSeq = decoding.readVarUint(decoder)
  return { throughSeq, update: decoding.readTailAsUint8Array(decoder) }
}

export class LevelStore implements DocumentStore {
  private readonly db: LevelType<string, Uint8Array>
  // Rooms this process has seen exist on disk; the first append of any other room also writes its index key.
  private readonly knownRooms = new Set<string>()

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
    try {
      await this.db.open()
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause
      if (cause?.message?.includes('lock')) {
        throw new StoreError(
          `The data directory ${this.location} is in use by another plait process; stop it or choose another --data directory.`,
          'locked',
          { cause: error },
        )
      }
      throw new StoreError(
        `Cannot open the data directory ${this.location}: ${cause?.message ?? String(error)}`,
        'io',
        {
          cause: error,
        },
      )
    }
  }

  async load(room: string): Promise<StoredRoom> {
    const [indexed, snapshotBytes] = await this.db.getMany([roomKey(room), snapshotKey(room)])
    let snapshot: Uint8Array | null = null
    let lastSeq = 0
    if (snapshotBytes !== undefined) {
      try {
        const decoded = decodeSnapshot(snapshotBytes)
        snapshot = decoded.update
        lastSeq = decoded.throughSeq
      } catch (error) {
        throw new StoreError(`the stored snapshot of room "${room}" is unreadable`, 'corrupt', {
          cause: error,
        })
      }
    }
    const updates: Uint8Array[] = []
    let logBytes = 0
    const prefix = logPrefix(room)
    const firstSeq = lastSeq + 1
    // Entries at or below the snapshot's sequence are already inside it (left by a compaction that
    // could not delete them); skip them.
    for await (const [key, value] of this.db.iterator({
      gte: logKey(room, firstSeq),
      lt: `${prefix}\uffff`,
    })) {
      const seq = Number.parseInt(key.slice(prefix.length), 16)
      if (seq !== lastSeq + 1) {
        throw new StoreError(
          `the update log of room "${room}" has a gap: expected update ${lastSeq + 1}, found ${seq}`,
          'corrupt',
        )
      }
      lastSeq = seq
      updates.push(value)
      logBytes += value.byteLength
    }
    const exists = indexed !== undefined || snapshot !== null || updates.length > 0
    if (exists) this.knownRooms.add(room)
    return { exists, snapshot, updates, lastSeq, firstSeq, logBytes }
  }

  async write(batch: WriteBatch): Promise<void> {
    if (batch.appends.length === 0 && batch.compactions.length === 0) return
    // A chained batch hands each operation to LevelDB as it is added. The array form keeps a copy of every
    // operation alive until the write completes, and V8 learns to allocate those copies in the old
    // generation: ~1 MB/s of old-space garbage at 1,000 updates/s, and a full GC every ~20 s.
    const indexed: string[] = []
    try {
      const chained = this.db.batch()
      // The first write of a room this process has not seen on disk also writes its index key.
      const index = (room: string) => {
        if (this.knownRooms.has(room)) return
        chained.put(roomKey(room), EMPTY)
        this.knownRooms.add(room)
        indexed.push(room)
      }
      for (const { room, seq, update } of batch.appends) {
        index(room)
        chained.put(logKey(room, seq), update)
      }
      for (const { room, snapshot, fromSeq, throughSeq } of batch.compactions) {
        index(room)
        chained.put(snapshotKey(room), encodeSnapshot(throughSeq, snapshot))
        for (let seq = fromSeq; seq <= throughSeq; seq++) chained.del(logKey(room, seq))
      }
      await chained.write({ sync: this.options.syncWrites === true })
    } catch (error) {
      // Nothing of the batch is on disk; the index keys must be written again next time.
      for (const room of indexed) this.knownRooms.delete(room)
      throw new StoreError(`writing to ${this.location} failed: ${(error as Error).message}`, 'io', {
        cause: error,
      })
    }
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

  async listRooms(options: { after?: string; limit?: number } = {}): Promise<string[]> {
    const rooms: string[] = []
    const start = options.after === undefined ? { gte: 'r\0' } : { gt: roomKey(options.after) }
    for await (const key of this.db.keys({ ...start, lt: 'r\u0001', limit: options.limit ?? -1 })) {
      rooms.push(key.slice(2))
    }
    return rooms
  }

  async hasRoom(room: string): Promise<boolean> {
    return (await this.db.get(roomKey(room))) !== undefined
  }

  async deleteRoom(room: string): Promise<void> {
    const ops: Op[] = [
      { type: 'del', key: roomKey(room) },
      { type: 'del', key: snapshotKey(room) },
    ]
    const prefix = logPrefix(room)
    for await (const key of this.db.keys({ gte: prefix, lt: `${prefix}\uffff` }))
      ops.push({ type: 'del', key })
    await this.db.batch(ops)
    this.knownRooms.delete(room)
  }

  async close(): Promise<void> {
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close()
  }
}
