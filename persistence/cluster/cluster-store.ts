// The storage contract on Redis and PostgreSQL, for several nodes sharing rooms. A room's recent
// updates are a Redis stream, each entry at a position a script hands out (consecutive per room); its
// snapshot, with the position it covers, and its versions are rows in PostgreSQL. An append is durable
// once Redis has it (as durable as Redis's appendfsync makes it) and is announced to the nodes following
// the room in the same atomic step. A compaction writes the snapshot to PostgreSQL first, then trims
// the stream through its position, so a reader that sees the trim also sees the snapshot: load reads
// Redis before PostgreSQL for that reason.
import { Redis, type RedisOptions } from 'ioredis'
import pg from 'pg'
import {
  type Compaction,
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
import { positionOfId } from './announcement.js'
import { ACQUIRE_LEASE_SCRIPT, APPEND_SCRIPT, RELEASE_LEASE_SCRIPT } from './log-scripts.js'
import { migrate } from './postgres-schema.js'
import { listVersions, loadVersion, saveVersion } from './postgres-versions.js'
import { type RoomKeys, roomKeys } from './redis-keys.js'

export interface ClusterStoreOptions {
  /** redis://… */
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

/** One entry of a room's log as read back from Redis. */
export interface LogRecord {
  position: number
  writer: string
  update: Uint8Array
}

type ScriptRunner = (...args: (string | number | Buffer | Uint8Array)[]) => Promise<unknown>

export const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/

const ioError = (what: string, error: unknown) =>
  new StoreError(`${what}: ${(error as Error).message}`, 'io', { cause: error })

export class ClusterStore implements DocumentStore {
  private redis: Redis | null = null
  private pool: pg.Pool | null = null
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
    return this.redis?.status === 'ready' && this.pool !== null
  }

  keys(room: string): RoomKeys {
    return roomKeys(this.prefix, room)
  }

  async open(): Promise<void> {
    if (this.redis !== null) return
    const redis = new Redis(this.options.redisUrl, redisOptions(this.timeoutMs))
    // Errors reach the commands that fail; the event would otherwise be unhandled and crash the process.
    redis.on('error', () => {})
    redis.defineCommand('plaitAppend', { numberOfKeys: 3, lua: APPEND_SCRIPT })
    redis.defineCommand('plaitAcquireLease', { numberOfKeys: 1, lua: ACQUIRE_LEASE_SCRIPT })
    redis.defineCommand('plaitReleaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE_SCRIPT })
    const pool = new pg.Pool({
      connectionString: this.options.databaseUrl,
      max: 10,
      connectionTimeoutMillis: this.timeoutMs,
      statement_timeout: this.timeoutMs * 2,
      query_timeout: this.timeoutMs * 2,
    })
    // An idle client whose server went away is dropped by the pool; the next query reconnects.
    pool.on('error', () => {})
    try {
      await redis.connect()
      await migrate(pool)
    } catch (error) {
      redis.disconnect()
      await pool.end().catch(() => {})
      throw ioError('cannot open the cluster store (Redis and PostgreSQL)', error)
    }
    this.redis = redis
    this.pool = pool
  }

  async close(): Promise<void> {
    const { redis, pool } = this
    this.redis = null
    this.pool = null
    if (redis !== null) await redis.quit().catch(() => redis.disconnect())
    if (pool !== null) await pool.end().catch(() => {})
  }

  private connections(): { redis: Redis; pool: pg.Pool } {
    if (this.redis === null || this.pool === null) throw new StoreError('the cluster store is closed', 'io')
    return { redis: this.redis, pool: this.pool }
  }

  async load(room: string): Promise<StoredRoom> {
    const { redis, pool } = this.connections()
    try {
      // Redis first: a trim is only ever done after PostgreSQL has the snapshot that covers it.
      const entries = await redis.xrangeBuffer(this.keys(room).stream, '-', '+')
      const { rows } = await pool.query<{ snapshot: Buffer | null; through: string }>(
        'SELECT snapshot, through FROM plait_rooms WHERE name = $1',
        [room],
      )
      const through = rows.length === 0 ? 0 : Number(rows[0].through)
      const updates: Uint8Array[] = []
      let position = through
      let logBytes = 0
      for (const [id, fields] of entries) {
        const at = positionOfId(id)
        if (at <= through) continue
        const update = fieldOf(fields, 'u')
        if (update === null) continue
        updates.push(update)
        logBytes += update.byteLength
        position = at
      }
      const snapshot = rows[0]?.snapshot ?? null
      return {
        exists: rows.length > 0 || updates.length > 0,
        snapshot: snapshot === null ? null : new Uint8Array(snapshot),
        updates,
        position,
        logBytes,
      }
    } catch (error) {
      throw ioError(`cannot load room "${room}"`, error)
    }
  }

  /** The position of the room's last append as Redis has it; null when Redis has no counter for it. */
  async logHead(room: string): Promise<number | null> {
    const { redis } = this.connections()
    const head = await redis.get(this.keys(room).counter)
    return head === null ? null : Number(head)
  }

  /** The log after `after`, oldest first, for a follower catching up (an empty list: nothing newer). */
  async readTail(room: string, after: number): Promise<LogRecord[]> {
    const { redis } = this.connections()
    const entries = await redis.xrangeBuffer(this.keys(room).stream, `(${after}-0`, '+')
    const records: LogRecord[] = []
    for (const [id, fields] of entries) {
      const update = fieldOf(fields, 'u')
      if (update !== null)
        records.push({ position: positionOfId(id), writer: fieldOf(fields, 'n')?.toString() ?? '', update })
    }
    return records
  }

  async write(batch: WriteBatch): Promise<WriteResult> {
    const { redis, pool } = this.connections()
    const positions = new Array<number>(batch.appends.length)
    const rooms = new Map<string, { indexes: number[]; updates: Buffer[]; trim: number }>()
    const roomOf = (name: string) => {
      let room = rooms.get(name)
      if (room === undefined) {
        room = { indexes: [], updates: [], trim: 0 }
        rooms.set(name, room)
      }
      return room
    }
    const leased: string[] = []
    try {
      for (const compaction of batch.compactions) {
        const started = performance.now()
        if (!(await this.acquireLease(redis, compaction.room))) {
          this.options.onCompaction?.({ ms: 0, skipped: true })
          continue
        }
        leased.push(compaction.room)
        await this.storeSnapshot(pool, compaction)
        roomOf(compaction.room).trim = compaction.through
        this.options.onCompaction?.({ ms: performance.now() - started, skipped: false })
      }
      for (const [i, { room, update }] of batch.appends.entries()) {
        const entry = roomOf(room)
        entry.indexes.push(i)
        // ioredis sends a Buffer as bytes but any other Uint8Array as its toString().
        entry.updates.push(Buffer.from(update.buffer, update.byteOffset, update.byteLength))
      }
      let pending = [...rooms.keys()]
      // A room seeded after NOSEQ is tried once more; a second NOSEQ means something deletes it meanwhile.
      for (let attempt = 0; pending.length > 0; attempt++) {
        const pipeline = redis.pipeline()
        const now = String(Date.now())
        for (const name of pending) {
          const { updates, trim } = rooms.get(name) ?? roomOf(name)
          const keys = this.keys(name)
          const run = (pipeline as unknown as Record<string, ScriptRunner>).plaitAppend
          run.call(
            pipeline,
            keys.counter,
            keys.stream,
            keys.info,
            keys.logChannel,
            now,
            this.nodeId,
            trim,
            ...updates,
          )
        }
        const results = (await pipeline.exec()) ?? []
        const unseeded: string[] = []
        for (const [i, name] of pending.entries()) {
          const [error, first] = results[i] ?? [new Error('no reply')]
          if (error !== null) {
            if (error.message.startsWith('NOSEQ') && attempt === 0) unseeded.push(name)
            else throw error
            continue
          }
          const room = rooms.get(name)
          if (room === undefined) continue
          for (const [k, index] of room.indexes.entries()) positions[index] = Number(first) + k
        }
        if (unseeded.length > 0) await this.seed(redis, pool, unseeded)
        pending = unseeded
      }
    } catch (error) {
      throw ioError('cannot write to the cluster store', error)
    } finally {
      for (const room of leased) await this.releaseLease(redis, room).catch(() => {})
    }
    return { positions }
  }

  /**
   * Starts the position counters of rooms Redis has none for at what PostgreSQL's snapshot covers, and
   * makes the rooms exist there (listRooms reads PostgreSQL). SET NX: a node that seeded first wins.
   */
  private async seed(redis: Redis, pool: pg.Pool, rooms: string[]): Promise<void> {
    const { rows } = await pool.query<{ name: string; through: string }>(
      `INSERT INTO plait_rooms (name, last_change) SELECT unnest($1::text[]), $2
       ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING name, through`,
      [rooms, Date.now()],
    )
    const pipeline = redis.pipeline()
    for (const { name, through } of rows) pipeline.set(this.keys(name).counter, through, 'NX')
    await pipeline.exec()
  }

  /** A snapshot older than the stored one changes nothing: the newer one covers more. */
  private async storeSnapshot(pool: pg.Pool, { room, snapshot, through }: Compaction): Promise<void> {
    await pool.query(
      `INSERT INTO plait_rooms (name, snapshot, through, snapshot_bytes) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET snapshot = $2, through = $3, snapshot_bytes = $4
       WHERE plait_rooms.snapshot IS NULL OR plait_rooms.through < $3`,
      [room, Buffer.from(snapshot), through, snapshot.byteLength],
    )
  }

  /** One node compacts a room at a time; another's compaction now would write the same document. */
  private async acquireLease(redis: Redis, room: string): Promise<boolean> {
    const run = (redis as unknown as Record<string, ScriptRunner>).plaitAcquireLease
    return Number(await run.call(redis, this.keys(room).lease, this.nodeId, this.leaseMs)) === 1
  }

  private async releaseLease(redis: Redis, room: string): Promise<void> {
    const run = (redis as unknown as Record<string, ScriptRunner>).plaitReleaseLease
    await run.call(redis, this.keys(room).lease, this.nodeId)
  }

  async listRooms(options: ListOptions = {}): Promise<string[]> {
    const { pool } = this.connections()
    const { rows } = await pool
      .query<{ name: string }>(
        'SELECT name FROM plait_rooms WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2',
        [options.after ?? null, options.limit ?? null],
      )
      .catch((error) => {
        throw ioError('cannot list rooms', error)
      })
    return rows.map((row) => row.name)
  }

  async hasRoom(room: string): Promise<boolean> {
    const { pool } = this.connections()
    const { rowCount } = await pool.query('SELECT 1 FROM plait_rooms WHERE name = $1', [room])
    return (rowCount ?? 0) > 0
  }

  async describeRooms(rooms: readonly string[]): Promise<Map<string, RoomInfo>> {
    const described = new Map<string, RoomInfo>()
    if (rooms.length === 0) return described
    const { redis, pool } = this.connections()
    const { rows } = await pool.query<{ name: string; snapshot_bytes: string; last_change: string | null }>(
      'SELECT name, snapshot_bytes, last_change FROM plait_rooms WHERE name = ANY($1::text[])',
      [rooms],
    )
    const pipeline = redis.pipeline()
    for (const { name } of rows) pipeline.hmget(this.keys(name).info, 'lb', 'lc')
    const infos = (await pipeline.exec()) ?? []
    for (const [i, row] of rows.entries()) {
      const [logBytes, logChange] = (infos[i]?.[1] as (string | null)[] | undefined) ?? [null, null]
      const changes = [row.last_change, logChange].filter((t) => t !== null).map(Number)
      described.set(row.name, {
        bytes: Number(row.snapshot_bytes) + Number(logBytes ?? 0),
        lastChange: changes.length === 0 ? null : Math.max(...changes),
      })
    }
    return described
  }

  async deleteRoom(room: string): Promise<void> {
    const { redis, pool } = this.connections()
    // PostgreSQL first: an append racing the delete then finds its counter gone with the rest.
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('DELETE FROM plait_versions WHERE room = $1', [room])
      await client.query('DELETE FROM plait_rooms WHERE name = $1', [room])
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw ioError(`cannot delete room "${room}"`, error)
    } finally {
      client.release()
    }
    const keys = this.keys(room)
    await redis.del(keys.counter, keys.stream, keys.info, keys.lease)
  }

  saveVersion(room: string, version: StoredVersion): Promise<void> {
    return saveVersion(this.connections().pool, room, version)
  }

  listVersions(room: string): Promise<VersionInfo[]> {
    return listVersions(this.connections().pool, room)
  }

  loadVersion(room: string, id: string): Promise<StoredVersion | null> {
    return loadVersion(this.connections().pool, room, id)
  }

  /** A round trip to each, timed: what /readyz and /metrics report. */
  async ping(): Promise<{ redisMs: number; postgresMs: number }> {
    const { redis, pool } = this.connections()
    const started = performance.now()
    await redis.ping()
    const redisDone = performance.now()
    await pool.query('SELECT 1')
    return { redisMs: redisDone - started, postgresMs: performance.now() - redisDone }
  }

  async checkWritable(): Promise<void> {
    const { redis, pool } = this.connections()
    const value = `${this.nodeId}:${Date.now()}:${Math.random()}`
    const key = `${this.prefix}:probe:${this.nodeId}`
    try {
      await redis.set(key, value, 'PX', 60_000)
      if ((await redis.get(key)) !== value) throw new Error('the Redis probe read back differently')
      await pool.query(
        'INSERT INTO plait_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2',
        [`probe:${this.nodeId}`, value],
      )
    } catch (error) {
      throw ioError('the cluster store cannot keep a write', error)
    }
  }
}

function redisOptions(timeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    // Fail a command at once while disconnected rather than queue it: a write must fail, not hang.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  }
}

function fieldOf(fields: Buffer[], name: string): Buffer | null {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i].toString() === name) return fields[i + 1]
  return null
}
