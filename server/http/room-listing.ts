// One page of the room list for one identity: up to `limit` rooms it may read, in storage order, and
// `next` only when more may follow. An identity that says which prefixes its rooms start with (a JWT's
// docs claim) has only those ranges of storage read, so a token for three rooms does not make every
// request walk every stored name.

import type { Identity } from '../auth/identity.js'
import type { AuthVerdict } from '../auth/verdict.js'

export type ListRooms = (options: { after?: string; limit?: number }) => Promise<string[]>

export type ListPage = { rooms: string[]; next?: string } | { refused: AuthVerdict & { ok: false } }

// Stored names read per step: few at first (a range often holds one room), growing for long ranges.
const FIRST_BATCH = 32
const MAX_BATCH = 4096

const utf8 = (s: string) => Buffer.from(s, 'utf8')
/** Storage order is the order of UTF-8 bytes, not of JavaScript's UTF-16 code units. */
const before = (a: string, b: string) => Buffer.compare(utf8(a), utf8(b)) < 0

/** The prefixes to read, without any that a shorter one covers, in storage order; [''] reads everything. */
function ranges(prefixes: readonly string[]): string[] {
  const sorted = [...new Set(prefixes)].sort((a, b) => Buffer.compare(utf8(a), utf8(b)))
  const kept: string[] = []
  for (const prefix of sorted) if (!kept.some((shorter) => prefix.startsWith(shorter))) kept.push(prefix)
  return kept
}

/** A cursor just before every name that starts with `prefix` (listRooms reads names after it). */
function justBefore(prefix: string): string | undefined {
  if (prefix === '') return undefined
  const last = prefix.charCodeAt(prefix.length - 1)
  const surrogate = (code: number) => code >= 0xd800 && code <= 0xdfff
  // NUL and surrogates cannot be stepped down (UTF-8 has no lone surrogates): a proper prefix is before
  // the range too, only less tightly.
  if (last === 0 || surrogate(last) || surrogate(last - 1))
    return prefix.slice(0, last >= 0xdc00 && last <= 0xdfff ? -2 : -1)
  return `${prefix.slice(0, -1)}${String.fromCharCode(last - 1)}\uffff`
}

export async function listReadable(
  listRooms: ListRooms,
  identity: Identity,
  after: string | undefined,
  limit: number,
): Promise<ListPage> {
  const rooms: string[] = []
  for (const prefix of ranges(identity.prefixes ?? [''])) {
    // A cursor past this whole range skips it; one inside it starts there.
    if (after !== undefined && !after.startsWith(prefix) && before(prefix, after)) continue
    let cursor = after?.startsWith(prefix) ? after : justBefore(prefix)
    let entered = false
    let pastRange = false
    let batchSize = FIRST_BATCH
    while (!pastRange) {
      const batch = await listRooms({ after: cursor, limit: batchSize })
      for (const room of batch) {
        if (!room.startsWith(prefix)) {
          if (!entered && before(room, prefix)) continue
          pastRange = true
          break
        }
        entered = true
        const verdict = await identity.accessTo(room)
        if (!verdict.ok && verdict.code === 4401) return { refused: verdict }
        if (verdict.ok && rooms.push(room) === limit) return { rooms, next: room }
      }
      if (batch.length < batchSize) break
      cursor = batch[batch.length - 1]
      batchSize = Math.min(MAX_BATCH, batchSize * 4)
    }
  }
  return { rooms }
}
