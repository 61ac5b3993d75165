// A client's sync step 1 answered: everything it lacks, as one update. While the document is still
// exactly the snapshot it was loaded from (nothing in the log, nothing applied since), a new client gets
// those stored bytes instead of a fresh encoding of the whole document (half of a first sync's server
// time for a 0.5 MB document).
import type * as Y from 'yjs'
import { ProtocolError } from '../protocol/messages.js'
import { encodeIntegratedState, isEmptyStateVector } from './yjs-state.js'

export class FirstSync {
  private loadedSnapshot: Uint8Array | null = null

  constructor(private readonly doc: Y.Doc) {}

  /** The room loaded this snapshot and nothing after it. */
  loaded(snapshot: Uint8Array | null): void {
    this.loadedSnapshot = snapshot
  }

  /** The document changed: the stored snapshot no longer stands for it. */
  changed(): void {
    this.loadedSnapshot = null
  }

  /** What a client with `stateVector` lacks; throws ProtocolError (1007) for a malformed state vector. */
  answer(stateVector: Uint8Array): Uint8Array {
    if (this.loadedSnapshot !== null && isEmptyStateVector(stateVector)) return this.loadedSnapshot
    try {
      return encodeIntegratedState(this.doc, stateVector)
    } catch {
      throw new ProtocolError(1007, 'invalid state vector in sync step 1')
    }
  }
}
