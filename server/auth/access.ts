// The `docs` claim of a token: which rooms it may read or write. Room names are data from clients, so the
// claim is a Map: a room named "constructor" or "__proto__" is a name like any other.
export type Access = 'read' | 'write'

/** Room pattern (an exact name, or a prefix ending in `*`) to the access it grants. */
export type DocsClaim = ReadonlyMap<string, Access>

export class DocsClaimError extends Error {
  override name = 'DocsClaimError'
}

/** The claim as a token carries it (a JSON object), checked: every value is "read" or "write". */
export function readDocsClaim(value: unknown): DocsClaim {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DocsClaimError('the token has no docs claim (an object of room pattern to "read" or "write")')
  }
  const docs = new Map<string, Access>()
  for (const [pattern, access] of Object.entries(value)) {
    if (access !== 'read' && access !== 'write') {
      throw new DocsClaimError(
        `the token's docs claim gives "${String(access)}" for ${pattern}; use read or write`,
      )
    }
    docs.set(pattern, access)
  }
  return docs
}

/**
 * The access a `docs` claim grants to a room: an exact name wins over any prefix pattern ("team/*"),
 * and the longest matching prefix wins over shorter ones. No crypto: cheap enough to ask per room.
 */
export function accessFor(docs: DocsClaim, room: string): Access | null {
  const exact = docs.get(room)
  if (exact !== undefined) return exact
  let best: Access | null = null
  let bestLength = -1
  for (const [pattern, access] of docs) {
    if (!pattern.endsWith('*')) continue
    const prefix = pattern.slice(0, -1)
    if (room.startsWith(prefix) && prefix.length > bestLength) {
      best = access
      bestLength = prefix.length
    }
  }
  return best
}
