// Named versions in a LevelStore directory: two keys per version, so listing reads no snapshots.
//   v\0<room>\0<id>      its info: UTF-8 JSON { name, createdAt, createdBy, size }
//   V\0<room>\0<id>      its snapshot: the Yjs update, as given
// Neither prefix was used before versions existed, so older directories read as "no versions".
import type { Level } from 'level'
import { type StoredVersion, StoreError, type VersionInfo, versionIdProblem } from '../store.js'

type Db = Level<string, Uint8Array>

const infoPrefix = (room: string) => `v\0${room}\0`
const snapshotPrefix = (room: string) => `V\0${room}\0`
// Room names hold no control characters: everything of this room's prefix sorts below \u0001, and no
// other room's key does (their next character is above it).
const rangeOf = (prefix: string) => ({ gte: prefix, lt: `${prefix.slice(0, -1)}\u0001` })

function checkId(id: string): void {
  const problem = versionIdProblem(id)
  if (problem !== null) throw new Error(problem)
}

export function putVersionOps(room: string, version: StoredVersion) {
  checkId(version.id)
  const info = {
    name: version.name,
    createdAt: version.createdAt,
    createdBy: version.createdBy,
    size: version.snapshot.byteLength,
  }
  return [
    {
      type: 'put' as const,
      key: infoPrefix(room) + version.id,
      value: new TextEncoder().encode(JSON.stringify(info)),
    },
    { type: 'put' as const, key: snapshotPrefix(room) + version.id, value: version.snapshot },
  ]
}

function readInfo(room: string, id: string, bytes: Uint8Array): VersionInfo {
  try {
    const info = JSON.parse(new TextDecoder().decode(bytes)) as Omit<VersionInfo, 'id'>
    return { id, name: info.name, createdAt: info.createdAt, createdBy: info.createdBy, size: info.size }
  } catch (error) {
    throw new StoreError(`the version "${id}" of room "${room}" is unreadable`, 'corrupt', { cause: error })
  }
}

export async function readVersionInfos(db: Db, room: string): Promise<VersionInfo[]> {
  const prefix = infoPrefix(room)
  const infos: VersionInfo[] = []
  for await (const [key, value] of db.iterator(rangeOf(prefix))) {
    infos.push(readInfo(room, key.slice(prefix.length), value))
  }
  return infos
}

export async function readVersion(db: Db, room: string, id: string): Promise<StoredVersion | null> {
  const view = db.snapshot()
  try {
    const [info, snapshot] = await db.getMany([infoPrefix(room) + id, snapshotPrefix(room) + id], {
      snapshot: view,
    })
    if (info === undefined || snapshot === undefined) return null
    const { name, createdAt, createdBy } = readInfo(room, id, info)
    return { id, name, createdAt, createdBy, snapshot }
  } finally {
    await view.close()
  }
}

/** Every version key of the room, for deleteRoom. */
export async function versionKeys(db: Db, room: string): Promise<string[]> {
  const keys: string[] = []
  for (const prefix of [infoPrefix(room), snapshotPrefix(room)]) {
    for await (const key of db.keys(rangeOf(prefix))) keys.push(key)
  }
  return keys
}
