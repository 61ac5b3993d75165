// The storage contract on Redis and PostgreSQL, for several nodes sharing rooms. A room's recent
// updates are a Redis stream, each entry at a position a script hands out (consecutive per room); its
// snapshot, with the position it covers, and its versions are rows in PostgreSQL. An append is durable
// once Redis has it (as durable as Redis's appendfsync makes it) and is announced to the nodes following
// the room in the same atomic step. A compaction writes the snapshot to PostgreSQL first, then trims
// the stream through its position, so a reader that sees the trim also sees the snapshot: load reads
// Redis before PostgreSQL for that reason.
import {
  type DocumentStore,
  type ListOptions,
  type RoomInfo,
  type StoredRoom,
  type StoredVersion,
  StoreError,
  type VersionInfo,
  type WriteBatch,
  type WriteResult,
} from '../store.js'
import { createPool } from './postgres-pool.js'
import { PostgresRooms } from './postgres-rooms.js'
import { migrate } from './postgres-schema.js'
import { listVersions, loadVersion, saveVersion } from './postgres-versions.js'
import { createRedis } from './redis-connection.js'
import { type RoomKeys, roomKeys } from './redis-keys.js'
import { type LogRecord, RedisLog, type RoomAppend } from './redis-log.js'
import { describeFailure, ioError, safeUrls } from './store-errors.js'

export interface ClusterStoreOptions {
  /** redis://… of one Redis, or the comma-separated seed nodes of a Redis Cluster. */
  redisUrl: string
  /** postgres://… */
  databaseUrl: string
  /** This node's id: names its appends, so followers skip their own. Letters, digits, `.`, `_`, `-`. */
  nodeId: string
  /** Key prefix, so deployments can share a Redis. */
  prefix?: string
  /** A compaction lease outlives a node that died midway by this long. */
  leaseMs?: number
  /** Timeouts of one Redis command and one SQL statement. */
  timeoutMs?: number
  /** Told of each compaction: how long its PostgreSQL write took, or that another node held the lease. */
  onCompaction?: (result: { ms: number; skipped: boolean }) => void
}

export type { LogRecord } from './redis-log.js'

export const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/

export class ClusterStore implements DocumentStore {
  private log: RedisLog | null = null
  private rooms: PostgresRooms | null = null
  readonly prefix: string
  private readonly leaseMs: number
  private readonly timeoutMs: number

  constructor(readonly options: ClusterStoreOptions) {
    if (!NODE_ID.test(options.nodeId))
      throw new Error(`node id "${options.nodeId}" must be 1-64 letters, digits, ".", "_" or "-"`)
    this.prefix = options.prefix ?? 'plait'
    this.leaseMs = options.leaseMs ?? 30_000
    this.timeoutMs = options.timeoutMs ?? 5_000
  }

  get nodeId(): string {
    return this.options.nodeId
  }

  get isOpen(): boolean {
    return this.log?.client.status === 'ready' && this.rooms !== null
  }

  keys(room: string): RoomKeys {
    return roomKeys(this.prefix, room)
  }

  async open(): Promise<void> {
    if (this.log !== null) return
    const redis = createRedis(this.options.redisUrl, { timeoutMs: this.timeoutMs, failFast: true })
    const pool = createPool(this.options.databaseUrl, this.timeoutMs)
    try {
      await redis.connect()
      await migrate(pool)
    } catch (error) {
      redis.disconnect()
      await pool.end().catch(() => {})
      throw ioError(
        `cannot open the cluster store (Redis at ${safeUrls(this.options.redisUrl)}, PostgreSQL at ${safeUrls(this.options.databaseUrl)})`,
        error,
      )
    }
    this.log = new RedisLog(redis, this.prefix, this.nodeId)
    this.rooms = new PostgresRooms(pool)
  }

  async close(): Promise<void> {
    const { log, rooms } = this
    this.log = null
    this.rooms = null
    if (log !== null) await log.client.quit().catch(() => log.client.disconnect())
    if (rooms !== null) await rooms.pool.end().catch(() => {})
  }

  /** Why Redis cannot take commands now (a sentence), or null when it can or the store is closed. */
  get connectionProblem(): string | null {
    const status = this.log?.client.status
    if (status === undefined || status === 'ready') return null
    return `Redis at ${safeUrls(this.options.redisUrl)} is not connected (${status})`
  }

  /** A sentence for a failure that names Redis or PostgreSQL (store-errors.ts). */
  private failure(what: string, error: unknown): StoreError {
    const { redisUrl, databaseUrl } = this.options
    return describeFailure(what, error, { redisUrl, databaseUrl, redisStatus: this.log?.client.status })
  }

  private connections(): { redis: RedisLog; rooms: PostgresRooms } {
    if (this.log === null || this.rooms === null) throw new StoreError('the cluster store is closed', 'io')
    return { redis: this.log, rooms: this.rooms }
  }

  async load(room: string): Promise<StoredRoom> {
    const { redis, rooms } = this.connections()
    try {
      // Redis first: a trim is only ever done after PostgreSQL has the snapshot that covers it.
      const entries = await redis.readAll(room)
      const row = await rooms.snapshotOf(room)
      const through = row?.through ?? 0
      const updates: Uint8Array[] = []
      let position = through
      let logBytes = 0
      for (const { position: at, update } of entries) {
        if (at <= through) continue
        updates.push(update)
        logBytes += update.byteLength
        position = at
      }
      return {
        exists: row !== null || updates.length > 0,
        snapshot: row?.snapshot ?? null,
        updates,
        position,
        logBytes,
      }
    } catch (error) {
      throw this.failure(`cannot load room "${room}"`, error)
    }
  }

  /** The position of the room's last append as Redis has it; null when Redis has no counter for it. */
  logHead(room: string): Promise<number | null> {
    return this.connections().redis.head(room)
  }

  /** The log after `after`, oldest first, for a follower catching up (an empty list: nothing newer). */
  readTail(room: string, after: number): Promise<LogRecord[]> {
    return this.connections().redis.readAfter(room, after)
  }

  async write(batch: WriteBatch): Promise<WriteResult> {
    const { redis, rooms: postgres } = this.connections()
    const positions = new Array<number>(batch.appends.length)
    const rooms = new Map<string, RoomAppend & { indexes: number[] }>()
    const roomOf = (room: string) => {
      let entry = rooms.get(room)
      if (entry === undefined) {
        entry = { room, updates: [], trimThrough: 0, indexes: [] }
        rooms.set(room, entry)
      }
      return entry
    }
    const leased: string[] = []
    try {
      for (const compaction of batch.compactions) {
        const started = performance.now()
        if (!(await redis.acquireLease(compaction.room, this.leaseMs))) {
          this.options.onCompaction?.({ ms: 0, skipped: true })
          continue
        }
        leased.push(compaction.room)
        await postgres.storeSnapshot(compaction)
        roomOf(compaction.room).trimThrough = compaction.through
        this.options.onCompaction?.({ ms: performance.now() - started, skipped: false })
      }
      for (const [i, { room, update }] of batch.appends.entries()) {
        const entry = roomOf(room)
        entry.indexes.push(i)
        // ioredis sends a Buffer as bytes but any other Uint8Array as its toString().
        entry.updates.push(Buffer.from(update.buffer, update.byteOffset, update.byteLength))
      }
      let pending = [...rooms.values()]
      // A room seeded after NOSEQ is tried once more; a second NOSEQ means something deletes it meanwhile.
      for (let attempt = 0; pending.length > 0; attempt++) {
        const results = await redis.append(pending)
        const unseeded: typeof pending = []
        for (const [i, entry] of pending.entries()) {
          const result = results[i]
          if ('unseeded' in result) {
            if (attempt > 0)
              throw new Error(`room "${entry.room}" lost its position counter twice in one write`)
            unseeded.push(entry)
            continue
          }
          for (const [k, index] of entry.indexes.entries()) positions[index] = result.first + k
        }
        // Counters start at what PostgreSQL's snapshot covers, so positions never go back below it; SET NX:
        // a node that seeded first wins. The rooms then exist in PostgreSQL, which listRooms reads.
        if (unseeded.length > 0) await redis.seed(await postgres.ensure(unseeded.map((entry) => entry.room)))
        pending = unseeded
      }
    } catch (error) {
      throw this.failure('cannot write to the cluster store', error)
    } finally {
      for (const room of leased) await redis.releaseLease(room).catch(() => {})
    }
    return { positions }
  }

  async listRooms(options: ListOptions = {}): Promise<string[]> {
    return this.connections()
      .rooms.list(options)
      .catch((error: unknown) => {
        throw this.failure('cannot list rooms', error)
      })
  }

  async hasRoom(room: string): Promise<boolean> {
    return this.connections()
      .rooms.has(room)
      .catch((error: unknown) => {
        throw this.failure(`cannot look up room "${room}"`, error)
      })
  }

  async describeRooms(names: readonly string[]): Promise<Map<string, RoomInfo>> {
    const described = new Map<string, RoomInfo>()
    if (names.length === 0) return described
    const { redis, rooms } = this.connections()
    try {
      const rows = await rooms.describe(names)
      const logs = await redis.describe(rows.map((row) => row.name))
      for (const [i, row] of rows.entries()) {
        const { logBytes, lastChange } = logs[i]
        const known = [row.lastChange, lastChange].filter((t): t is number => t !== null)
        described.set(row.name, {
          bytes: row.snapshotBytes + logBytes,
          lastChange: known.length === 0 ? null : Math.max(...known),
        })
      }
    } catch (error) {
      throw this.failure('cannot describe rooms', error)
    }
    return described
  }

  async deleteRoom(room: string): Promise<void> {
    const { redis, rooms } = this.connections()
    try {
      // PostgreSQL first: an append racing the delete then finds its counter gone with the rest.
      await rooms.delete(room)
      await redis.delete(room)
    } catch (error) {
      throw this.failure(`cannot delete room "${room}"`, error)
    }
  }

  saveVersion(room: string, version: StoredVersion): Promise<void> {
    return saveVersion(this.connections().rooms.pool, room, version)
  }

  listVersions(room: string): Promise<VersionInfo[]> {
    return listVersions(this.connections().rooms.pool, room)
  }

  loadVersion(room: string, id: string): Promise<StoredVersion | null> {
    return loadVersion(this.connections().rooms.pool, room, id)
  }

  /** A round trip to each, timed: what /readyz and /metrics report. Rejects with which one failed. */
  async ping(): Promise<{ redisMs: number; postgresMs: number }> {
    const { redis, rooms } = this.connections()
    const answered = (side: string, url: string) => (error: Error) => {
      throw new StoreError(`${side} at ${safeUrls(url)} did not answer: ${error.message}`, 'io')
    }
    const started = performance.now()
    await redis.client.ping().catch(answered('Redis', this.options.redisUrl))
    const redisDone = performance.now()
    await rooms.pool.query('SELECT 1').catch(answered('PostgreSQL', this.options.databaseUrl))
    return { redisMs: redisDone - started, postgresMs: performance.now() - redisDone }
  }

  async checkWritable(): Promise<void> {
    const { redis, rooms } = this.connections()
    const value = `${this.nodeId}:${Date.now()}:${Math.random()}`
    try {
      await redis.probe(`${this.prefix}:probe:${this.nodeId}`, value)
      await rooms.probe(`probe:${this.nodeId}`, value)
    } catch (error) {
      throw this.failure('the cluster store cannot keep a write', error)
    }
  }
}
