// Named versions of documents (server.versions): a version is the document's durable state kept in the
// store apart from its log; restoring one is a server-side edit every client follows (restore.ts).
import { randomBytes } from 'node:crypto'
import * as Y from 'yjs'
import type { DocumentStore, StoredVersion, VersionInfo } from '../../persistence/store.js'
import type { DocumentHandle } from './document-handle.js'
import { restoreUpdate } from './restore.js'
import type { Room } from './room.js'
import { encodeIntegratedState } from './yjs-state.js'

export interface VersionsDeps {
  store: DocumentStore
  openDocument(room: string): Promise<DocumentHandle>
  loadedRoom(room: string): Room | undefined
}

/** A refusal with a code: no such document, or no such version of it. */
export class VersionError extends Error {
  constructor(
    readonly code: 'no-document' | 'no-version',
    message: string,
  ) {
    super(message)
    this.name = 'VersionError'
  }
}

export interface RestoreResult {
  /** The version kept of the document as it was just before the restore: restoring it undoes the restore. */
  before: string
}

/** Sortable by time, unique without coordination: a millisecond timestamp and 48 random bits. */
const newId = () => `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`

export class Versions {
  constructor(private readonly deps: VersionsDeps) {}

  /** Keeps the document's durable state as a version; rejects with a VersionError for a document nobody wrote. */
  async create(room: string, options: { name: string; createdBy?: string | null }): Promise<{ id: string }> {
    await this.mustExist(room)
    const handle = await this.deps.openDocument(room)
    try {
      const opened = this.deps.loadedRoom(room)
      if (opened === undefined || !opened.exists) throw this.noDocument(room)
      const snapshot = await opened.exportState()
      return { id: await this.save(room, options.name, options.createdBy ?? null, snapshot) }
    } finally {
      handle.release()
    }
  }

  /** The room's versions, newest first, without their snapshots. */
  list(room: string): Promise<VersionInfo[]> {
    return this.deps.store.listVersions(room)
  }

  /** One version with its snapshot (one Yjs update); null when there is none with that id. */
  read(room: string, id: string): Promise<StoredVersion | null> {
    return this.deps.store.loadVersion(room, id)
  }

  /** The version as a fresh Y.Doc (the caller destroys it); null when there is none with that id. */
  async readDoc(room: string, id: string): Promise<Y.Doc | null> {
    const version = await this.read(room, id)
    if (version === null) return null
    const doc = new Y.Doc()
    Y.applyUpdate(doc, version.snapshot)
    return doc
  }

  /**
   * Makes the version's content current again as one server-side edit (restore.ts): stored, then sent to
   * every client like any change. The document as it was just before is kept as a version first.
   */
  async restore(room: string, id: string, options: { by?: string | null } = {}): Promise<RestoreResult> {
    const version = await this.read(room, id)
    if (version === null) throw new VersionError('no-version', `document ${room} has no version ${id}`)
    await this.mustExist(room)
    const handle = await this.deps.openDocument(room)
    try {
      const taken: { before?: Uint8Array } = {}
      // The state before and the change are taken in one synchronous step: no edit falls between them.
      await handle.transact((doc) => {
        taken.before = encodeIntegratedState(doc)
        Y.applyUpdate(doc, restoreUpdate(doc, version.snapshot))
      })
      // Durable now, and with it every edit it was computed against: the version before is what was stored.
      const name = `before restoring "${version.name}"`
      return { before: await this.save(room, name, options.by ?? null, taken.before as Uint8Array) }
    } finally {
      handle.release()
    }
  }

  private async save(room: string, name: string, createdBy: string | null, snapshot: Uint8Array) {
    const id = newId()
    await this.deps.store.saveVersion(room, { id, name, createdAt: Date.now(), createdBy, snapshot })
    return id
  }

  private async mustExist(room: string): Promise<void> {
    if (this.deps.loadedRoom(room)?.exists === true || (await this.deps.store.hasRoom(room))) return
    throw this.noDocument(room)
  }

  private noDocument(room: string): VersionError {
    return new VersionError('no-document', `no document named ${room}`)
  }
}
