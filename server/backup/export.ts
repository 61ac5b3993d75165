// plait export: every room of a store (its whole document as one update) and its versions, to one file
// (backup-format.ts). Reads the store only.
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import * as Y from 'yjs'
import type { DocumentStore } from '../../persistence/store.js'
import { applyStoredHistory, encodeIntegratedState, keepEverything } from '../documents/yjs-state.js'
import { BACKUP_FORMAT, BACKUP_VERSION, type BackupRecord, encodeRecord } from './backup-format.js'
import { Progress } from './progress.js'

const PAGE = 1000

/** The room's document as the server would hand it out: its stored history applied, encoded once. */
export async function roomState(store: DocumentStore, room: string): Promise<Uint8Array> {
  const stored = await store.load(room)
  const doc = new Y.Doc({ gcFilter: keepEverything })
  try {
    applyStoredHistory(doc, stored.snapshot, stored.updates)
    return encodeIntegratedState(doc)
  } finally {
    doc.destroy()
  }
}

/**
 * Writes the backup to `file` (through `file.partial`, renamed once whole, so a failed export leaves no
 * file that looks like a backup). Resolves with what was written.
 */
export async function exportStore(
  store: DocumentStore,
  file: string,
  report: (line: string) => void,
  progressEveryMs?: number,
): Promise<Progress> {
  const partial = `${file}.partial`
  const out = createWriteStream(partial)
  const progress = new Progress('exported', report, progressEveryMs)
  const put = async (record: BackupRecord) => {
    // Backpressure: a large store is never held in memory waiting for the disk.
    if (!out.write(encodeRecord(record))) await once(out, 'drain')
  }
  try {
    await put({
      type: 'header',
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      exportedAt: new Date().toISOString(),
    })
    let after: string | undefined
    for (;;) {
      const rooms = await store.listRooms({ after, limit: PAGE })
      for (const room of rooms) {
        await put({ type: 'room', room, state: await roomState(store, room) })
        // Oldest first, so an import lists them in the order they were made.
        for (const info of (await store.listVersions(room)).reverse()) {
          const version = await store.loadVersion(room, info.id)
          if (version === null) continue
          await put({ type: 'version', room, version })
          progress.versions++
        }
        progress.rooms++
        progress.tick()
      }
      if (rooms.length < PAGE) break
      after = rooms[rooms.length - 1]
    }
    await put({ type: 'end', rooms: progress.rooms, versions: progress.versions })
    out.end()
    await once(out, 'finish')
    await rename(partial, file)
    return progress
  } catch (error) {
    out.destroy()
    await rm(partial, { force: true })
    throw error
  }
}
