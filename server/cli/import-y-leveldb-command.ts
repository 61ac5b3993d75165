// `plait import-y-leveldb SRC --data DIR`: every document of a y-websocket server's YPERSISTENCE directory
// (the y-leveldb package) into a plait data directory, so its users can switch with their documents.
import { realpathSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import * as Y from 'yjs'
import { LevelStore } from '../../persistence/level/level-store.js'
import type { Compaction, LogEntry } from '../../persistence/store.js'
import { applyStoredHistory, encodeIntegratedState, keepEverything } from '../documents/yjs-state.js'
import { roomNameProblem } from '../protocol/room-name.js'
import { ConfigError } from './config.js'
import { openYLeveldbSource, SourceError, type YLeveldbSource } from './y-leveldb-source.js'

export const importYLeveldbHelp = `plait import-y-leveldb — import the documents of a y-websocket server

Usage: plait import-y-leveldb SRC --data DIR [--merge]

  SRC          the directory the y-websocket server's YPERSISTENCE names (y-leveldb); stop that server first
  --data DIR   plait's data directory (created when missing); stop plait first
  --merge      merge into rooms DIR already has (a Yjs merge: nothing either side is lost);
               without it, the import refuses when any room exists and writes nothing

Each document becomes the room of the same name, its whole state one snapshot. Names plait does not allow
as rooms (control characters, over 256 bytes) are skipped and listed. Exit code 0: done; 1: failed or
refused; 2: wrong arguments.`

/** Writes at most this many documents, or about this many bytes, per atomic batch. */
const BATCH_DOCUMENTS = 1000
const BATCH_BYTES = 16 * 1024 * 1024
/** A progress line after this many more documents, or after this long, whichever comes first. */
const PROGRESS_DOCUMENTS = 1000
const PROGRESS_MS = 1000
/** Names listed in full in a message; the rest are counted. */
const LISTED_NAMES = 10

export interface ImportOutput {
  /** The summary and the lists of skipped names. */
  out(line: string): void
  /** Progress lines and refusals. */
  err(line: string): void
}

export interface ImportRequest {
  source: string
  dataDir: string
  merge: boolean
}

export interface ImportSummary {
  imported: number
  merged: number
  skipped: number
  bytes: number
  ms: number
}

/** A refusal or failure the command reports as one sentence, with exit code 1. */
export class ImportError extends Error {
  override name = 'ImportError'
}

const flags = {
  data: { type: 'string' },
  merge: { type: 'boolean' },
  help: { type: 'boolean' },
} as const

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true })
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}. Run plait import-y-leveldb --help for the usage.`)
  }
}

/** Reads the command line; 'help' for --help. Throws ConfigError (exit 2) for wrong arguments. */
export function parseImportArguments(argv: string[]): ImportRequest | 'help' {
  const { values, positionals } = parse(argv)
  if (values.help) return 'help'
  if (positionals.length !== 1)
    throw new ConfigError(
      `expected one source directory (SRC), got ${positionals.length}. Usage: plait import-y-leveldb SRC --data DIR`,
    )
  if (!values.data) throw new ConfigError('--data DIR is required: the plait data directory to import into')
  return { source: positionals[0], dataDir: values.data, merge: values.merge === true }
}

const realPath = (path: string) => {
  try {
    return realpathSync(path)
  } catch {
    return resolve(path)
  }
}

const count = (n: number) => n.toLocaleString('en-US')
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
const listed = (names: string[]) => {
  const shown = names.slice(0, LISTED_NAMES).map((name) => JSON.stringify(name))
  const more = names.length - shown.length
  return more > 0 ? `${shown.join(', ')} and ${count(more)} more` : shown.join(', ')
}

/** The document as plait stores it: y-leveldb's updates applied to one Y.Doc, as a room loads them. */
function stateOf(name: string, updates: Uint8Array[]): { state: Uint8Array; heldBack: number } {
  // A guid of our own: Yjs's random one takes 31 calls of getRandomValues, a fifth of a small import.
  const doc = new Y.Doc({ guid: name, gcFilter: keepEverything })
  try {
    // Updates whose dependencies were never stored were never shown to anyone: left out, as rooms do.
    const heldBack = applyStoredHistory(doc, null, updates)
    return { state: encodeIntegratedState(doc), heldBack }
  } finally {
    doc.destroy()
  }
}

export async function importYLeveldb(request: ImportRequest, output: ImportOutput): Promise<ImportSummary> {
  if (realPath(request.source) === realPath(request.dataDir))
    throw new ConfigError('SRC and --data name the same directory: import into a new plait data directory')
  const started = Date.now()
  let source: YLeveldbSource
  try {
    source = await openYLeveldbSource(request.source)
  } catch (error) {
    if (error instanceof SourceError) throw new ImportError(error.message, { cause: error })
    throw error
  }
  const store = new LevelStore(request.dataDir, { syncWrites: true })
  try {
    await store.open()
    const all = await source.names()
    const refused = all.filter((name) => roomNameProblem(name) !== null)
    if (refused.length > 0)
      output.err(
        `skipping ${count(refused.length)} document(s) whose names plait does not allow as rooms: ${listed(refused)}`,
      )
    const names = all.filter((name) => roomNameProblem(name) === null)
    const existing = new Set<string>()
    for (const name of names) if (await store.hasRoom(name)) existing.add(name)
    if (existing.size > 0 && !request.merge)
      throw new ImportError(
        `${count(existing.size)} room(s) already exist in ${request.dataDir}: ${listed([...existing])}. Nothing was imported. Run again with --merge to merge these documents into them (a Yjs merge keeps the edits of both), or import into an empty --data directory.`,
      )

    const summary: ImportSummary = { imported: 0, merged: 0, skipped: refused.length, bytes: 0, ms: 0 }
    const unreadable: string[] = []
    let heldBackDocuments = 0
    let compactions: Compaction[] = []
    let appends: LogEntry[] = []
    let batchBytes = 0
    let reportedAt = Date.now()
    let reportedDocuments = 0
    const progress = () => {
      const done = summary.imported
      if (done - reportedDocuments < PROGRESS_DOCUMENTS && Date.now() - reportedAt < PROGRESS_MS) return
      const seconds = Math.max((Date.now() - started) / 1000, 0.001)
      output.err(
        `imported ${count(done)} of ${count(names.length)} documents (${Math.floor((100 * done) / names.length)}%), ${mib(summary.bytes)}, ${count(Math.round(done / seconds))} documents/s`,
      )
      reportedAt = Date.now()
      reportedDocuments = done
    }
    const flush = async () => {
      await store.write({ appends, compactions })
      summary.imported += compactions.length + appends.length
      summary.merged += appends.length
      summary.bytes += batchBytes
      compactions = []
      appends = []
      batchBytes = 0
    }
    for (const name of names) {
      let state: Uint8Array
      try {
        const read = stateOf(name, await source.updates(name))
        state = read.state
        if (read.heldBack > 0) heldBackDocuments++
      } catch (error) {
        // Yjs cannot read one of its updates: the others still come over, and the command fails at the end.
        unreadable.push(name)
        output.err(`cannot read document ${JSON.stringify(name)}: ${(error as Error).message}`)
        continue
      }
      // A new room gets the state as its snapshot, what plait's own compaction writes: it loads with one
      // apply and is never compacted again on unload. Position 0 is where a room never written stands.
      // An existing room (--merge) gets it as one more log entry: Yjs merges it on the next load.
      if (existing.has(name)) appends.push({ room: name, update: state })
      else compactions.push({ room: name, snapshot: state, through: 0 })
      batchBytes += state.byteLength
      if (compactions.length + appends.length >= BATCH_DOCUMENTS || batchBytes >= BATCH_BYTES) await flush()
      progress()
    }
    if (compactions.length + appends.length > 0) await flush()
    summary.ms = Date.now() - started
    const seconds = (summary.ms / 1000).toFixed(1)
    output.out(
      `imported ${count(summary.imported)} document(s) (${count(summary.merged)} merged into existing rooms), skipped ${count(summary.skipped)}, ${mib(summary.bytes)} in ${seconds} s into ${request.dataDir}`,
    )
    if (all.length === 0)
      output.err(`${request.source} holds no y-leveldb documents: is it the directory YPERSISTENCE names?`)
    if (heldBackDocuments > 0)
      output.err(
        `${count(heldBackDocuments)} document(s) held updates whose dependencies were never stored; clients never saw them, and they were left out`,
      )
    if (unreadable.length > 0)
      throw new ImportError(
        `${count(unreadable.length)} document(s) could not be read and were not imported: ${listed(unreadable)}`,
      )
    return summary
  } finally {
    await source.close()
    await store.close()
  }
}

/** The subcommand as main.ts runs it: the exit code (0 done, 1 failed or refused, 2 wrong arguments). */
export async function runImportYLeveldbCommand(argv: string[], output: ImportOutput): Promise<number> {
  const fail = (message: string, code: number) => {
    output.err(`plait import-y-leveldb: ${message}`)
    return code
  }
  try {
    const request = parseImportArguments(argv)
    if (request === 'help') {
      output.out(importYLeveldbHelp)
      return 0
    }
    await importYLeveldb(request, output)
    return 0
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message, 2)
    if (error instanceof ImportError) return fail(error.message, 1)
    // StoreError and the like carry their own sentence.
    return fail((error as Error).message, 1)
  }
}
