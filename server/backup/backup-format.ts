// The backup file (plait export / plait import): NDJSON, one record a line, bytes as base64, so it streams
// both ways and a person can read what is in it. Version 1:
//   {"type":"header","format":"plait-backup","version":1,"exportedAt":"<ISO 8601>"}
//   {"type":"room","room":"<name>","state":"<base64 Yjs update: the whole document>"}
//   {"type":"version","room":"<name>","id":"…","name":"…","createdAt":<ms>,"createdBy":"…"|null,"snapshot":"<base64>"}
//   {"type":"end","rooms":<count>,"versions":<count>}
// A room's versions follow its room line. The end line says the file is whole.
import type { StoredVersion } from '../../persistence/store.js'

export const BACKUP_FORMAT = 'plait-backup'
export const BACKUP_VERSION = 1

export type BackupRecord =
  | { type: 'header'; format: typeof BACKUP_FORMAT; version: number; exportedAt: string }
  | { type: 'room'; room: string; state: Uint8Array }
  | { type: 'version'; room: string; version: StoredVersion }
  | { type: 'end'; rooms: number; versions: number }

const base64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
const bytesOf = (text: unknown, what: string): Uint8Array => {
  if (typeof text !== 'string') throw new Error(`${what} is not base64 text`)
  return new Uint8Array(Buffer.from(text, 'base64'))
}

/** One record as its line, newline included. */
export function encodeRecord(record: BackupRecord): string {
  let line: unknown
  if (record.type === 'room') line = { type: 'room', room: record.room, state: base64(record.state) }
  else if (record.type === 'version') {
    const { snapshot, ...info } = record.version
    line = { type: 'version', room: record.room, ...info, snapshot: base64(snapshot) }
  } else line = record
  return `${JSON.stringify(line)}\n`
}

const isText = (value: unknown): value is string => typeof value === 'string'

/** One line back into its record; throws a sentence naming what is wrong with it. */
export function decodeRecord(line: string): BackupRecord {
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(line)
  } catch {
    throw new Error('it is not JSON')
  }
  if (raw === null || typeof raw !== 'object') throw new Error('it is not a JSON object')
  switch (raw.type) {
    case 'header':
      if (raw.format !== BACKUP_FORMAT) throw new Error(`it is not a ${BACKUP_FORMAT} header`)
      if (typeof raw.version !== 'number') throw new Error('the header has no version')
      return {
        type: 'header',
        format: BACKUP_FORMAT,
        version: raw.version,
        exportedAt: String(raw.exportedAt),
      }
    case 'room':
      if (!isText(raw.room)) throw new Error('the room line has no room name')
      return { type: 'room', room: raw.room, state: bytesOf(raw.state, 'state') }
    case 'version': {
      const { room, id, name, createdAt, createdBy } = raw
      if (!isText(room) || !isText(id) || !isText(name) || typeof createdAt !== 'number')
        throw new Error('the version line lacks room, id, name or createdAt')
      if (createdBy !== null && !isText(createdBy)) throw new Error('createdBy is neither text nor null')
      const snapshot = bytesOf(raw.snapshot, 'snapshot')
      return { type: 'version', room, version: { id, name, createdAt, createdBy, snapshot } }
    }
    case 'end':
      if (typeof raw.rooms !== 'number' || typeof raw.versions !== 'number')
        throw new Error('the end line lacks its counts')
      return { type: 'end', rooms: raw.rooms, versions: raw.versions }
    default:
      throw new Error(`unknown record type ${JSON.stringify(raw.type)}`)
  }
}
