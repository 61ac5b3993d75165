// Updates that depend on changes a room does not have yet (their dependencies never arrived, or arrive
// later in a client's sync step 2). Yjs keeps such updates in its store and, on every later update,
// merges the whole backlog with it and tries it again: 10,000 orphan updates of 23 bytes froze the whole
// server for over 50 s. Here the room takes them out of Yjs's store right after each apply and keeps
// them itself, each with the clocks it waits for: the cost of holding them stays one map check per
// held update per turn, and one is applied again only once everything it waited for is there.
// They are bounded per socket and per room; nothing held back is stored, broadcast or sent to anyone.
import * as Y from 'yjs'

/** Bounds of what a room holds back. A stock client holds back at most a few updates, briefly. */
export const heldBackLimits = {
  perSocketUpdates: 128,
  perSocketBytes: 1024 * 1024,
  perRoomUpdates: 512,
  perRoomBytes: 4 * 1024 * 1024,
}

interface HeldUpdate<Owner> {
  owner: Owner
  /** A Yjs V2 update: structs Yjs could not integrate, or a delete set of items it has not seen. */
  update: Uint8Array
  /** Per client, the first clock this update waits for. */
  missing: Map<number, number>
}

/** For a held-back delete set: per client, the lowest clock it deletes. */
function deleteSetClocks(update: Uint8Array): Map<number, number> {
  const missing = new Map<number, number>()
  for (const [client, items] of Y.decodeUpdateV2(update).ds.clients) {
    let lowest = Number.POSITIVE_INFINITY
    for (const item of items) lowest = Math.min(lowest, item.clock)
    missing.set(client, lowest)
  }
  return missing
}

export class HeldBack<Owner> {
  private held: HeldUpdate<Owner>[] = []
  private bytes = 0

  get size(): number {
    return this.held.length
  }

  /** Takes out of `doc` what its last apply held back, as `owner`'s. Returns how many updates that was. */
  capture(doc: Y.Doc, owner: Owner): number {
    const store = doc.store
    const { pendingStructs, pendingDs } = store
    if (pendingStructs === null && pendingDs === null) return 0
    store.pendingStructs = null
    store.pendingDs = null
    let captured = 0
    if (pendingStructs !== null) {
      this.add({ owner, update: pendingStructs.update, missing: new Map(pendingStructs.missing) })
      captured++
    }
    if (pendingDs !== null) {
      this.add({ owner, update: pendingDs, missing: deleteSetClocks(pendingDs) })
      captured++
    }
    return captured
  }

  /** Why `owner` may hold back no more (a sentence), or null while it is within the bounds. */
  excess(owner: Owner): string | null {
    let updates = 0
    let bytes = 0
    for (const entry of this.held) {
      if (entry.owner !== owner) continue
      updates++
      bytes += entry.update.byteLength
    }
    if (updates > heldBackLimits.perSocketUpdates || bytes > heldBackLimits.perSocketBytes)
      return 'too many of your updates depend on changes the server does not have'
    if (this.held.length > heldBackLimits.perRoomUpdates || this.bytes > heldBackLimits.perRoomBytes)
      return 'this room holds too many updates whose dependencies never arrived'
    return null
  }

  /**
   * Applies again every held update whose dependencies have all arrived (in the caller's transaction);
   * what is still missing something is held again. Returns the owners of what was applied.
   */
  retry(doc: Y.Doc): Owner[] {
    const applied: Owner[] = []
    // Each pass can unblock updates that waited for the ones it applied; a few passes settle it.
    for (let pass = 0; pass < 4 && this.held.length > 0; pass++) {
      const ready = this.held.filter((entry) => this.isReady(doc, entry))
      if (ready.length === 0) break
      this.remove(new Set(ready))
      for (const entry of ready) {
        Y.applyUpdateV2(doc, entry.update)
        this.capture(doc, entry.owner)
        applied.push(entry.owner)
      }
    }
    return applied
  }

  /** Whether anything `owner` sent is held back. */
  holdsFrom(owner: Owner): boolean {
    return this.held.some((entry) => entry.owner === owner)
  }

  /** Forgets what `owner` held back (it left, or went over the bounds); returns how many. */
  dropOwnedBy(owner: Owner): number {
    const dropped = this.held.filter((entry) => entry.owner === owner)
    if (dropped.length > 0) this.remove(new Set(dropped))
    return dropped.length
  }

  private isReady(doc: Y.Doc, entry: HeldUpdate<Owner>): boolean {
    for (const [client, clock] of entry.missing) if (Y.getState(doc.store, client) <= clock) return false
    return true
  }

  private add(entry: HeldUpdate<Owner>): void {
    this.held.push(entry)
    this.bytes += entry.update.byteLength
  }

  private remove(entries: Set<HeldUpdate<Owner>>): void {
    this.held = this.held.filter((entry) => !entries.has(entry))
    this.bytes = 0
    for (const entry of this.held) this.bytes += entry.update.byteLength
  }
}
