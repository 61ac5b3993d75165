// A data directory written by y-websocket's YPERSISTENCE, read with the y-leveldb package itself: its key
// encoding, its document list (one state-vector key per document) and its update ranges, so plait never
// re-implements the format. Loaded only by `plait import-y-leveldb`: a server start never pays for it.
//
// Not through LeveldbPersistence: its transactions turn every error into a console warning and a null
// result (a locked directory would read as "no documents"), it creates an empty database at a mistyped
// path, and getYDoc rewrites documents of more than 500 updates in the source directory.
import { existsSync, statSync } from 'node:fs'
import { createRequire, Module } from 'node:module'
import { join } from 'node:path'
import * as Y from 'yjs'

type YLeveldb = typeof import('y-leveldb')

/** The few methods of y-leveldb's own `level` (an abstract-level database) used here. */
interface SourceDatabase {
  open(): Promise<void>
  close(): Promise<void>
  readonly status: string
}
type LevelClass = new (location: string, options: Record<string, unknown>) => SourceDatabase

/** A reason the source cannot be read, as a sentence for the person running the command. */
export class SourceError extends Error {
  override name = 'SourceError'
}

export interface YLeveldbSource {
  /** Every document name, in y-leveldb's key order. */
  names(): Promise<string[]>
  /** Every stored update of a document, oldest first. */
  updates(name: string): Promise<Uint8Array[]>
  close(): Promise<void>
}

const requireHere = createRequire(import.meta.url)

function loadYLeveldb(): { yLeveldb: YLeveldb; Level: LevelClass } {
  let entry: string
  try {
    entry = requireHere.resolve('y-leveldb')
  } catch (error) {
    throw new SourceError(
      'the y-leveldb package is not installed (it comes with plait: reinstall plait with its dependencies)',
      { cause: error },
    )
  }
  const requireThere = createRequire(entry)
  // y-leveldb requires Yjs when it loads. A second Yjs in one process prints "Yjs was already imported"
  // and breaks Yjs's constructor checks; plait's own (bundled) copy takes its place in the require
  // cache (Node documents adding entries there). Only bytes pass between the two anyway.
  const yjsPath = requireThere.resolve('yjs')
  if (requireThere.cache[yjsPath] === undefined) {
    const yjs = new Module(yjsPath)
    yjs.filename = yjsPath
    yjs.exports = Y
    yjs.loaded = true
    requireThere.cache[yjsPath] = yjs
  }
  // y-leveldb's own `level` (it may be older than plait's): the one its encodings and streams are for.
  const { Level } = requireThere('level') as { Level: LevelClass }
  return { yLeveldb: requireThere(entry) as YLeveldb, Level }
}

/** Opens SRC with y-leveldb's encodings; refuses a missing, foreign or locked directory with a sentence. */
export async function openYLeveldbSource(location: string): Promise<YLeveldbSource> {
  if (!existsSync(location) || !statSync(location).isDirectory())
    throw new SourceError(`${location} is not a directory`)
  if (!existsSync(join(location, 'CURRENT')))
    throw new SourceError(
      `${location} is not a LevelDB directory (it has no CURRENT file): pass the directory YPERSISTENCE names`,
    )
  const { yLeveldb, Level } = loadYLeveldb()
  // createIfMissing: false, so a mistake never leaves an empty database behind; values as y-leveldb
  // stores them (bytes as they are).
  const db = new Level(location, {
    keyEncoding: yLeveldb.keyEncoding,
    valueEncoding: 'buffer',
    createIfMissing: false,
  })
  try {
    await db.open()
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? String(error)
    if (cause.includes('lock'))
      throw new SourceError(
        `${location} is in use by another process (a running y-websocket server?): stop it first, or import from a copy of the directory`,
        { cause: error },
      )
    throw new SourceError(`cannot open ${location}: ${cause}`, { cause: error })
  }
  return {
    async names() {
      const keys = await yLeveldb.getAllDocsKeys(db)
      return keys.map((key) => String(key[1]))
    },
    updates: (name) => yLeveldb.getLevelUpdates(db, name),
    async close() {
      if (db.status === 'open' || db.status === 'opening') await db.close()
    },
  }
}
