// The storage contract on Redis and PostgreSQL, for several nodes sharing rooms. A room's recent
// updates are a Redis stream, each entry at a position a script hands out (consecutive per room); its
// snapshot, with the position it covers, and its versions are rows in PostgreSQL. An append is durable
// once Redis has it (as durable as Redis's appendfsync makes it) and is announced to the nodes following
// the room in the same atomic step. A compaction writes the snapshot to PostgreSQL first, then trims
// the stream through its position, so a reader that sees the trim also sees the snapshot: load reads
// Redis before PostgreSQL for that reason.
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
import { migrate } from './postgres-schema.js'
import { listVersions, loadVersion, saveVersion } from './postgres-versions.js'
import { createRedis } from './redis-connection.js'
import { type RoomKeys, roomKeys } from './redis-keys.js'
import { RedisLog, type RoomAppend } from './redis-log.js'

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

/** One entry of a room's log as read back from Redis. */
export interface LogRecord {
  position: number
  writer: string
  update: Uint8Array
}

export const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/

/** Where the store connects, without credentials, for messages. */
function safeUrls(value: string): string {
  return value
    .split(',')
    .map((url) => {
      try {
        const parsed = new URL(url.trim())
        return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`
      } catch {
        return '(an unparsable URL)'
      }
    })
    .join(',')
}

/** An error node-postgres raised, marked where it was caught: its own text rarely names the server. */
class PostgresFailure extends Error {}

/** Runs a PostgreSQL step; whatever it throws is marked as PostgreSQL's. */
async function inPostgres<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw new PostgresFailure((error as Error).message ?? String(error))
  }
}

// The cause's text is in the message already (pino would print it twice if it were the cause too).
const ioError = (what: string, error: unknown) => new StoreError(`${what}: ${(error as Error).message}`, 'io')

export class ClusterStore implements DocumentStore {
  private log: RedisLog | null = null
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
    return this.log?.client.status === 'ready' && this.pool !== null
  }

  keys(room: string): RoomKeys {
    return roomKeys(this.prefix, room)
  }

  async open(): Promise<void> {
    if (this.log !== null) return
    const redis = createRedis(this.options.redisUrl, { timeoutMs: this.timeoutMs, failFast: true })
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
      throw ioError(
        `cannot open the cluster store (Redis at ${safeUrls(this.options.redisUrl)}, PostgreSQL at ${safeUrls(this.options.databaseUrl)})`,
        error,
      )
    }
    this.log = new RedisLog(redis, this.prefix, this.nodeId)
    this.pool = pool
  }

  async close(): Promise<void> {
    const { log, pool } = this
    this.log = null
    this.pool = null
    if (log !== null) await log.client.quit().catch(() => log.client.disconnect())
    if (pool !== null) await pool.end().catch(() => {})
  }

  /** Why Redis cannot take commands now (a sentence), or null when it can or the store is closed. */
  get connectionProblem(): string | null {
    const status = this.log?.client.status
    if (status === undefined || status === 'ready') return null
    return `Redis at ${safeUrls(this.options.redisUrl)} is not connected (${status})`
  }

  /** A sentence for a failure: an ioredis error while disconnected says only "max retries". */
  private failure(what: string, error: unknown): StoreError {
    const status = this.log?.client.status
    // ioredis's words for a lost connection; its status may still read 'ready' when the command fails.
    const lost = /Stream isn't writeable|max retries per request|Connection is closed/.test(
      (error as Error).message ?? '',
    )
    if ((status !== undefined && status !== 'ready') || lost)
      return new StoreError(
        `${what}: Redis at ${safeUrls(this.options.redisUrl)} is not connected (${lost ? 'connection lost' : status})`,
        'io',
      )
    if (this.fromPostgres(error))
      return new StoreError(
        `${what}: PostgreSQL at ${safeUrls(this.options.databaseUrl)}: ${(error as Error).message}`,
        'io',
      )
    return ioError(what, error)
  }

  /** Whether node-postgres raised it: a server's error, or its words for a lost or unreachable one. */
  private fromPostgres(error: unknown): boolean {
    if (error instanceof PostgresFailure || error instanceof pg.DatabaseError) return true
    const { message, port } = error as { message?: string; port?: number }
    if (/Connection terminated|timeout exceeded when trying to connect|connection error/.test(message ?? ''))
      return true
    return port !== undefined && String(port) === (new URL(this.options.databaseUrl).port || '5432')
  }

  private connections(): { redis: RedisLog; pool: pg.Pool } {
    if (this.log === null || this.pool === null) throw new StoreError('the cluster store is closed', 'io')
    return { redis: this.log, pool: this.pool }
  }

  async load(room: string): Promise<StoredRoom> {
    const { redis, pool } = this.connections()
    try {
      // Redis first: a trim is only ever done after PostgreSQL has the snapshot that covers it.
      const entries = await redis.readAll(room)
      const { rows } = await inPostgres(() =>
        pool.query<{ snapshot: Buffer | null; through: string }>(
          'SELECT snapshot, through FROM plait_rooms WHERE name = $1',
          [room],
        ),
      )
      const through = rows.length === 0 ? 0 : Number(rows[0].through)
      const updates: Uint8Array[] = []
      let position = through
      let logBytes = 0
      for (const { position: at, update } of entries) {
        if (at <= through) continue
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
    const { redis, pool } = this.connections()
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
        await inPostgres(() => this.storeSnapshot(pool, compaction))
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
        if (unseeded.length > 0)
          await inPostgres(() =>
            this.seed(
              redis,
              pool,
              unseeded.map((entry) => entry.room),
            ),
          )
        pending = unseeded
      }
    } catch (error) {
      throw this.failure('cannot write to the cluster store', error)
    } finally {
      for (const room of leased) await redis.releaseLease(room).catch(() => {})
    }
    return { positions }
  }

  /**
   * Starts the position counters of rooms Redis has none for at what PostgreSQL's snapshot covers, and
   * makes the rooms exist there (listRooms reads PostgreSQL). SET NX: a node that seeded first wins.
   */
  private async seed(redis: RedisLog, pool: pg.Pool, rooms: string[]): Promise<void> {
    const { rows } = await pool.query<{ name: string; through: string }>(
      `INSERT INTO plait_rooms (name, last_change) SELECT unnest($1::text[]), $2
       ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING name, through`,
      [rooms, Date.now()],
    )
    await redis.seed(rows.map(({ name, through }) => ({ room: name, through: Number(through) })))
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

  async listRooms(options: ListOptions = {}): Promise<string[]> {
    const { pool } = this.connections()
    const { rows } = await pool
      .query<{ name: string }>(
        'SELECT name FROM plait_rooms WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2',
        [options.after ?? null, options.limit ?? null],
      )
      .catch((error) => {
        throw this.failure('cannot list rooms', error)
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
    const logs = await redis.describe(rows.map((row) => row.name))
    for (const [i, row] of rows.entries()) {
      const { logBytes, lastChange } = logs[i]
      const changes = [row.last_change === null ? null : Number(row.last_change), lastChange]
      const known = changes.filter((t): t is number => t !== null)
      described.set(row.name, {
        bytes: Number(row.snapshot_bytes) + logBytes,
        lastChange: known.length === 0 ? null : Math.max(...known),
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
      throw this.failure(`cannot delete room "${room}"`, error)
    } finally {
      client.release()
    }
    await redis.delete(room)
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

  /** A round trip to each, timed: what /readyz and /metrics report. Rejects with which one failed. */
  async ping(): Promise<{ redisMs: number; postgresMs: number }> {
    const { redis, pool } = this.connections()
    const started = performance.now()
    await redis.client.ping().catch((error: Error) => {
      throw new StoreError(
        `Redis at ${safeUrls(this.options.redisUrl)} did not answer: ${error.message}`,
        'io',
      )
    })
    const redisDone = performance.now()
    await pool.query('SELECT 1').catch((error: Error) => {
      throw new StoreError(
        `PostgreSQL at ${safeUrls(this.options.databaseUrl)} did not answer: ${error.message}`,
        'io',
      )
    })
    return { redisMs: redisDone - started, postgresMs: performance.now() - redisDone }
  }

  async checkWritable(): Promise<void> {
    const { redis, pool } = this.connections()
    const value = `${this.nodeId}:${Date.now()}:${Math.random()}`
    const key = `${this.prefix}:probe:${this.nodeId}`
    try {
      await redis.client.set(key, value, 'PX', 60_000)
      if ((await redis.client.get(key)) !== value) throw new Error('the Redis probe read back differently')
      await pool.query(
        'INSERT INTO plait_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2',
        [`probe:${this.nodeId}`, value],
      )
    } catch (error) {
      throw this.failure('the cluster store cannot keep a write', error)
    }
  }
}
