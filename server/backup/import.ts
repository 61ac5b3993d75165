// plait import: a backup file (backup-format.ts) into a store. Each room's exported update becomes its
// snapshot, so the document loads byte for byte as it was exported. A room the store already has is
// skipped with its versions, unless `overwrite`: then it is deleted first (its versions too).
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { DocumentStore } from '../../persistence/store.js'
import { roomNameProblem } from '../protocol/room-name.js'
import { BACKUP_VERSION, decodeRecord } from './backup-format.js'
import { Progress } from './progress.js'

export async function importInto(
  store: DocumentStore,
  file: string,
  options: { overwrite: boolean; progressEveryMs?: number },
  report: (line: string) => void,
): Promise<Progress> {
  const progress = new Progress('imported', report, options.progressEveryMs)
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY })
  let lineNumber = 0
  let ended = false
  // The room of the versions that follow, or null while its room line was skipped.
  let current: string | null = null
  for await (const line of lines) {
    lineNumber++
    if (line.trim() === '') continue
    const record = (() => {
      try {
        return decodeRecord(line)
      } catch (error) {
        throw new Error(`${file} line ${lineNumber} is not a backup record: ${(error as Error).message}`)
      }
    })()
    if (lineNumber === 1) {
      if (record.type !== 'header') throw new Error(`${file} is not a plait backup (no header line)`)
      if (record.version !== BACKUP_VERSION)
        throw new Error(
          `${file} is backup format ${record.version}; this plait reads format ${BACKUP_VERSION}`,
        )
      continue
    }
    if (ended) throw new Error(`${file} has records after its end line (line ${lineNumber})`)
    if (record.type === 'room') {
      const problem = roomNameProblem(record.room)
      if (problem !== null) throw new Error(`${file} line ${lineNumber}: ${problem}`)
      current = record.room
      if (await store.hasRoom(record.room)) {
        if (!options.overwrite) {
          current = null
          progress.skipped++
          continue
        }
        await store.deleteRoom(record.room)
      }
      // Position 0: the snapshot covers nothing of a log, and the room's first append follows it.
      await store.write({
        appends: [],
        compactions: [{ room: record.room, snapshot: record.state, through: 0 }],
      })
      progress.rooms++
      progress.tick()
    } else if (record.type === 'version') {
      if (current === null) continue
      if (record.room !== current)
        throw new Error(`${file} line ${lineNumber}: a version of ${record.room} outside its room`)
      await store.saveVersion(record.room, record.version)
      progress.versions++
    } else if (record.type === 'end') {
      ended = true
    } else {
      throw new Error(`${file} line ${lineNumber}: a second header`)
    }
  }
  if (lineNumber === 0) throw new Error(`${file} is empty`)
  if (!ended)
    throw new Error(
      `${file} ends before its end line: it is truncated (${progress.summary()} before the end)`,
    )
  return progress
}
