// A room's named versions in PostgreSQL (plait_versions): apart from the log, so compaction never
// touches them; deleteRoom removes them with the room.
import type { Pool } from 'pg'
import { newestFirst, type StoredVersion, type VersionInfo, versionIdProblem } from '../store.js'

const numberOr = (value: string | null) => (value === null ? 0 : Number(value))

export async function saveVersion(pool: Pool, room: string, version: StoredVersion): Promise<void> {
  const problem = versionIdProblem(version.id)
  if (problem !== null) throw new Error(problem)
  await pool.query(
    `INSERT INTO plait_versions (room, id, name, created_at, created_by, snapshot)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (room, id) DO UPDATE SET name = $3, created_at = $4, created_by = $5, snapshot = $6`,
    [room, version.id, version.name, version.createdAt, version.createdBy, Buffer.from(version.snapshot)],
  )
}

export async function listVersions(pool: Pool, room: string): Promise<VersionInfo[]> {
  const { rows } = await pool.query<{
    id: string
    name: string
    created_at: string
    created_by: string | null
    size: string | null
  }>(
    'SELECT id, name, created_at, created_by, length(snapshot) AS size FROM plait_versions WHERE room = $1',
    [room],
  )
  return rows
    .map((row) => ({
      id: row.id,
      name: row.name,
      createdAt: Number(row.created_at),
      createdBy: row.created_by,
      size: numberOr(row.size),
    }))
    .sort(newestFirst)
}

export async function loadVersion(pool: Pool, room: string, id: string): Promise<StoredVersion | null> {
  const { rows } = await pool.query<{
    name: string
    created_at: string
    created_by: string | null
    snapshot: Buffer
  }>('SELECT name, created_at, created_by, snapshot FROM plait_versions WHERE room = $1 AND id = $2', [
    room,
    id,
  ])
  if (rows.length === 0) return null
  const row = rows[0]
  return {
    id,
    name: row.name,
    createdAt: Number(row.created_at),
    createdBy: row.created_by,
    snapshot: new Uint8Array(row.snapshot),
  }
}
