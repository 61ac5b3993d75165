// What a POSTed update must pass before it touches a document: Yjs can read it, and everything it
// builds on is in the document. Yjs itself would hold such an update back (pending) and integrate it
// later; over HTTP nobody sends the rest, so it is refused instead of kept.
import * as Y from 'yjs'
import { ApiError } from './errors.js'

/** Throws a 400 unless Yjs can read the whole update (structs, their content and the delete set). */
export function readableUpdate(update: Uint8Array): void {
  if (update.byteLength === 0)
    throw new ApiError(400, 'malformed-update', 'the body is empty; send a Yjs update')
  try {
    Y.decodeUpdate(update)
  } catch (error) {
    throw new ApiError(400, 'malformed-update', `not a Yjs update: ${(error as Error).message}`)
  }
}

const isId = (value: unknown): value is Y.ID => value instanceof Y.ID

/**
 * The first change `update` depends on that `doc` lacks, as a sentence; null when it applies whole.
 * It follows Yjs's own test: a client's structs must continue its known clock without a gap, and the
 * items they name (origins, parents) and the ranges they delete must be known, in the document or in
 * the update itself. Costs one pass over the update, never a copy of the document.
 */
export function missingDependency(update: Uint8Array, doc: Y.Doc): string | null {
  const { structs, ds } = Y.decodeUpdate(update)
  const have = Y.decodeStateVector(Y.encodeStateVector(doc))
  const reach = new Map(have)
  const missing = (client: number, clock: number) =>
    `the update builds on changes of client ${client} up to clock ${clock}, and this document has ${have.get(client) ?? 0} of them`
  // decodeUpdate lists each client's structs in clock order; a Skip is a hole that nothing here fills.
  for (const struct of structs) {
    if (struct instanceof Y.Skip) continue
    const { client, clock } = struct.id
    const known = reach.get(client) ?? 0
    if (clock > known) return missing(client, clock)
    reach.set(client, Math.max(known, clock + struct.length))
  }
  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) continue
    for (const ref of [struct.origin, struct.rightOrigin, isId(struct.parent) ? struct.parent : null]) {
      if (ref !== null && ref.clock >= (reach.get(ref.client) ?? 0)) return missing(ref.client, ref.clock)
    }
  }
  for (const [client, ranges] of ds.clients) {
    for (const { clock, len } of ranges) {
      if (clock + len > (reach.get(client) ?? 0)) return missing(client, clock + len - 1)
    }
  }
  return null
}
