// The PostgreSQL half of the cluster store's rooms (plait_rooms): each room's snapshot, the position it
// covers, and that the room exists. Every step is marked as PostgreSQL's when it fails (store-errors.ts).
import type pg from 'pg'
import type { Compaction, ListOptions } from '../store.js'
import { inTransaction } from './postgres-pool.js'
import { inPostgres } from './store-errors.js'

export interface SnapshotRow {
  snapshot: Uint8Array | null
  through: number
}

export interface RoomRow {
  name: string
  snapshotBytes: number
  lastChange: number | null
}

export class PostgresRooms {
  constructor(readonly pool: pg.Pool) {}

  /** The room's snapshot and its position; null when the room does not exist. */
  snapshotOf(room: string): Promise<SnapshotRow | null> {
    return inPostgres(async () => {
      const { rows } = await this.pool.query<{ snapshot: Buffer | null; through: string }>(
        'SELECT snapshot, through FROM plait_rooms WHERE name = $1',
        [room],
      )
      if (rows.length === 0) return null
      const { snapshot, through } = rows[0]
      return { snapshot: snapshot === null ? null : new Uint8Array(snapshot), through: Number(through) }
    })
  }

  /** A snapshot older than the stored one changes nothing: the newer one covers more. */
  storeSnapshot({ room, snapshot, through }: Compaction): Promise<void> {
    return inPostgres(async () => {
      await this.pool.query(
        `INSERT INTO plait_rooms (name, snapshot, through, snapshot_bytes) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET snapshot = $2, through = $3, snapshot_bytes = $4
         WHERE plait_rooms.snapshot IS NULL OR plait_rooms.through < $3`,
        [room, Buffer.from(snapshot), through, snapshot.byteLength],
      )
    })
  }

  /** Makes the rooms exist (listRooms reads them here); answers the position each snapshot covers. */
  ensure(rooms: string[]): Promise<{ room: string; through: number }[]> {
    return inPostgres(async () => {
      const { rows } = await this.pool.query<{ name: string; through: string }>(
        `INSERT INTO plait_rooms (name, last_change) SELECT unnest($1::text[]), $2
         ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING name, through`,
        [rooms, Date.now()],
      )
      return rows.map(({ name, through }) => ({ room: name, through: Number(through) }))
    })
  }

  list({ after, limit }: ListOptions): Promise<string[]> {
    return inPostgres(async () => {
      const { rows } = await this.pool.query<{ name: string }>(
        'SELECT name FROM plait_rooms WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2',
        [after ?? null, limit ?? null],
      )
      return rows.map((row) => row.name)
    })
  }

  has(room: string): Promise<boolean> {
    return inPostgres(async () => {
      const { rowCount } = await this.pool.query('SELECT 1 FROM plait_rooms WHERE name = $1', [room])
      return (rowCount ?? 0) > 0
    })
  }

  /** The rows of those of `rooms` that exist. */
  describe(rooms: readonly string[]): Promise<RoomRow[]> {
    return inPostgres(async () => {
      const { rows } = await this.pool.query<{
        name: string
        snapshot_bytes: string
        last_change: string | null
      }>('SELECT name, snapshot_bytes, last_change FROM plait_rooms WHERE name = ANY($1::text[])', [rooms])
      return rows.map((row) => ({
        name: row.name,
        snapshotBytes: Number(row.snapshot_bytes),
        lastChange: row.last_change === null ? null : Number(row.last_change),
      }))
    })
  }

  /** Removes the room and its versions, in one transaction. */
  delete(room: string): Promise<void> {
    return inPostgres(() =>
      inTransaction(this.pool, async (client) => {
        await client.query('DELETE FROM plait_versions WHERE room = $1', [room])
        await client.query('DELETE FROM plait_rooms WHERE name = $1', [room])
      }),
    )
  }

  /** Writes a probe record (checkWritable). */
  probe(key: string, value: string): Promise<void> {
    return inPostgres(async () => {
      await this.pool.query(
        'INSERT INTO plait_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2',
        [key, value],
      )
    })
  }
}
