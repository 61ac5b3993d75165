// What the core needs to know about Yjs's internals, in one place: whether a transaction changed
// anything, the document without what Yjs holds back, and a start-up warm-up of its code paths.
import * as Y from 'yjs'

/** Shared by every room's Y.Doc: history is never garbage-collected (snapshots and versions need it). */
export const keepEverything = () => true

/**
 * Whether a transaction changed anything (the test Yjs makes before emitting 'update'). Runs once per
 * applied turn: iterating entries would allocate an array per client in the document (~640 B a call for
 * 10 clients); clients are only ever added, so a new one shows in the size.
 */
export function changedDocument(transaction: Y.Transaction): boolean {
  const { afterState, beforeState } = transaction
  if (transaction.deleteSet.clients.size > 0 || afterState.size !== beforeState.size) return true
  for (const client of afterState.keys()) if (beforeState.get(client) !== afterState.get(client)) return true
  return false
}

/** Whether Yjs holds updates back for missing dependencies in the document's store. */
export function holdsBack(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null
}

/** Bytes Yjs holds back in the document's store. */
export function heldBackBytes(doc: Y.Doc): number {
  const store = doc.store
  return (store.pendingStructs?.update.byteLength ?? 0) + (store.pendingDs?.byteLength ?? 0)
}

export function dropHeldBack(doc: Y.Doc): void {
  doc.store.pendingStructs = null
  doc.store.pendingDs = null
}

/**
 * The document as one update, without the updates Yjs holds back for missing dependencies (its own
 * encodeStateAsUpdate appends them). In a snapshot they would make the room unloadable: its next load
 * would hold them back again, as if the stored history were missing updates. In a first sync or an
 * export they would hand out content nobody can see. Encoding is synchronous, so nothing observes the
 * moment they are set aside.
 */
export function encodeIntegratedState(doc: Y.Doc, stateVector?: Uint8Array): Uint8Array {
  const store = doc.store
  const { pendingStructs, pendingDs } = store
  if (pendingStructs === null && pendingDs === null) return Y.encodeStateAsUpdate(doc, stateVector)
  store.pendingStructs = null
  store.pendingDs = null
  try {
    return Y.encodeStateAsUpdate(doc, stateVector)
  } finally {
    store.pendingStructs = pendingStructs
    store.pendingDs = pendingDs
  }
}

/** A client that has nothing yet: its state vector lists no clients (varUint 0). */
export const isEmptyStateVector = (stateVector: Uint8Array) =>
  stateVector.length === 1 && stateVector[0] === 0

/** What Yjs encodes for a document holding Y.Text "warm-up" and Y.Map {k: 1} (client 1). */
const WARM_UP_UPDATE = new Uint8Array([
  1, 2, 1, 0, 4, 1, 1, 116, 7, 119, 97, 114, 109, 45, 117, 112, 40, 1, 1, 109, 1, 107, 1, 125, 1, 0,
])

/**
 * Runs Yjs's decode, apply and encode paths on throwaway documents at start-up, so the first room a
 * process loads does not also pay for compiling them: that room's apply took 2.7-3.5 ms instead of
 * 0.5-0.9 ms for a 0.4 MB document. Nothing is stored or sent.
 */
export function warmUpYjs(): void {
  for (let i = 0; i < 2; i++) {
    const doc = new Y.Doc({ gcFilter: keepEverything })
    doc.transact(() => Y.applyUpdate(doc, WARM_UP_UPDATE))
    Y.encodeStateVector(doc)
    encodeIntegratedState(doc)
    doc.destroy()
  }
}

/**
 * Applies a room's stored history to its (new) document in one transaction: thousands of applyUpdate
 * calls cost one cleanup. Only a snapshot written before encodeIntegratedState existed can hold updates
 * whose dependencies never arrived: they were never integrated, so never shown to anyone; they are
 * dropped, and their size returned (0: none), so the document is the one everyone saw.
 */
export function applyStoredHistory(
  doc: Y.Doc,
  snapshot: Uint8Array | null,
  updates: Uint8Array[],
  origin: unknown = null,
): number {
  doc.transact(() => {
    if (snapshot) Y.applyUpdate(doc, snapshot)
    for (const update of updates) Y.applyUpdate(doc, update)
  }, origin)
  if (!holdsBack(doc)) return 0
  const bytes = heldBackBytes(doc)
  dropHeldBack(doc)
  return bytes
}
