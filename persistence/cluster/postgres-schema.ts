// The PostgreSQL side of the cluster store: each room's snapshot and the log position it covers, its
// versions, and a schema version. Created or migrated at start, under an advisory lock, so nodes that
// start together do it once. Names are COLLATE "C": byte order, which for UTF-8 is the code point order
// listRooms promises.
import type { Pool } from 'pg'
import { inTransaction } from './postgres-pool.js'

export const SCHEMA_VERSION = 1

// Any constant both sides agree on; it keeps two nodes from creating the tables at the same moment.
const SCHEMA_LOCK = 0x706c6169

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE plait_rooms (
      name text COLLATE "C" PRIMARY KEY,
      snapshot bytea,
      through bigint NOT NULL DEFAULT 0,
      snapshot_bytes bigint NOT NULL DEFAULT 0,
      last_change bigint
    );
    CREATE TABLE plait_versions (
      room text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      name text NOT NULL,
      created_at bigint NOT NULL,
      created_by text,
      snapshot bytea NOT NULL,
      PRIMARY KEY (room, id)
    );
  `,
}

/** Brings the database to SCHEMA_VERSION; refuses one written by a newer plait. */
export function migrate(pool: Pool): Promise<void> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK])
    await client.query('CREATE TABLE IF NOT EXISTS plait_meta (key text PRIMARY KEY, value text NOT NULL)')
    const row = await client.query<{ value: string }>("SELECT value FROM plait_meta WHERE key = 'schema'")
    const current = row.rows.length === 0 ? 0 : Number(row.rows[0].value)
    if (current > SCHEMA_VERSION)
      throw new Error(
        `the database holds plait schema ${current}, newer than this plait's ${SCHEMA_VERSION}: upgrade plait`,
      )
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      await client.query(MIGRATIONS[version])
    }
    await client.query(
      "INSERT INTO plait_meta (key, value) VALUES ('schema', $1) ON CONFLICT (key) DO UPDATE SET value = $1",
      [String(SCHEMA_VERSION)],
    )
  })
}
