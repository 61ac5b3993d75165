// Types for the parts of the y-leveldb package plait uses (`plait import-y-leveldb` and its test). The
// package ships declarations, but its "exports" map names none, so TypeScript cannot find them.
declare module 'y-leveldb' {
  /** A key as y-leveldb's keyEncoding decodes it, e.g. ['v1_sv', docName] or ['v1', docName, 'update', clock]. */
  export type DocKey = Array<string | number>

  /** The level encoding y-leveldb stores its keys with (lib0-encoded arrays of strings and numbers). */
  export const keyEncoding: {
    buffer: true
    type: string
    encode(key: DocKey): Uint8Array
    decode(bytes: Uint8Array): DocKey
  }

  /** The state-vector key of every document, read in key order (one per document). */
  export function getAllDocsKeys(db: object): Promise<DocKey[]>
  /** Every stored update of one document, oldest first. */
  export function getLevelUpdates(db: object, docName: string): Promise<Uint8Array[]>

  export class LeveldbPersistence {
    constructor(location: string, options?: { Level?: unknown; levelOptions?: Record<string, unknown> })
    storeUpdate(docName: string, update: Uint8Array): Promise<number>
    getAllDocNames(): Promise<string[]>
    flushDocument(docName: string): Promise<void>
    destroy(): Promise<void>
  }
}
