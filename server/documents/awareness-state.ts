// The awareness states of one room (cursors, names, presence), kept as the JSON text clients sent.
// A relay never needs the parsed objects, so states are stored and re-encoded as strings; this also
// avoids y-protocols' Awareness, which starts a timer per instance (one per room).
// A client id belongs to the socket that first claimed it, so nobody can rename, move or remove
// another person's cursor, and a state's size and nesting are capped, since every stock client in the
// room parses and re-serialises each state (a state nested 20,000 deep made them all throw).
//
// Encoding (y-protocols/awareness): varUint(count), then per client varUint(clientID), varUint(clock),
// varString(JSON state, "null" when removed).
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { ProtocolError } from '../protocol/messages.js'

export interface AwarenessEntry<Owner> {
  clock: number
  /** The JSON state, or null once its owner removed it (the id stays the owner's until it leaves). */
  state: string | null
  owner: Owner
  /** When the owner last sent it (ms since epoch). */
  seenAt: number
}

/** Deepest nesting of arrays and objects in a state; presence is a few levels deep. */
export const MAX_AWARENESS_DEPTH = 32

/**
 * y-protocols clients renew their state every 15 s and drop another client's state after 30 s without
 * a renewal; an id its owner has not renewed for that long may be claimed by another socket (the same
 * client reconnecting before the server noticed its old socket die).
 */
export const AWARENESS_OUTDATED_MS = 30_000

export interface AwarenessChange {
  clientID: number
  clock: number
  state: string
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** How deeply arrays and objects nest in a JSON text, read without recursion. */
export function jsonDepth(json: string): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth)
    else if (c === 0x7d || c === 0x5d) depth--
  }
  return deepest
}

/**
 * Reads an awareness update; throws ProtocolError when it is malformed, a state is not JSON, is longer
 * than `maxStateBytes` or nests deeper than MAX_AWARENESS_DEPTH.
 */
export function decodeAwarenessUpdate(update: Uint8Array, maxStateBytes: number): AwarenessChange[] {
  const decoder = decoding.createDecoder(update)
  try {
    const count = decoding.readVarUint(decoder)
    if (count > update.length)
      throw new ProtocolError(1007, 'awareness update claims more states than it has bytes')
    const changes: AwarenessChange[] = []
    for (let i = 0; i < count; i++) {
      const clientID = decoding.readVarUint(decoder)
      const clock = decoding.readVarUint(decoder)
      const length = decoding.readVarUint(decoder)
      if (length > update.length - decoder.pos) throw new ProtocolError(1007, 'truncated awareness state')
      if (length > maxStateBytes)
        throw new ProtocolError(
          1007,
          `an awareness state of ${length} bytes is over the limit of ${maxStateBytes} (--max-awareness-state)`,
        )
      const state = utf8.decode(decoding.readUint8Array(decoder, length))
      if (jsonDepth(state) > MAX_AWARENESS_DEPTH)
        throw new ProtocolError(1007, `an awareness state nests deeper than ${MAX_AWARENESS_DEPTH} levels`)
      // Every receiving client JSON.parses the state; one invalid string would break all of them.
      JSON.parse(state)
      changes.push({ clientID, clock, state })
    }
    return changes
  } catch (error) {
    if (error instanceof ProtocolError) throw error
    throw new ProtocolError(1007, `invalid awareness update: ${(error as Error).message}`)
  }
}

export function encodeAwarenessStates(states: Iterable<AwarenessChange>): Uint8Array {
  const list = Array.isArray(states) ? (states as AwarenessChange[]) : [...states]
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, list.length)
  for (const { clientID, clock, state } of list) {
    encoding.writeVarUint(encoder, clientID)
    encoding.writeVarUint(encoder, clock)
    encoding.writeVarString(encoder, state)
  }
  return encoding.toUint8Array(encoder)
}

/**
 * Awareness states of one room with the socket that controls each, following y-protocols' rules:
 * a state replaces an older clock; "null" with the same clock removes it.
 */
export class AwarenessState<Owner extends { readonly userId: string | null }> {
  readonly entries = new Map<number, AwarenessEntry<Owner>>()
  // Changes since the last broadcast, so a burst of cursor moves leaves as one frame.
  private pending: Map<number, AwarenessChange> | null = null

  /**
   * Applies a socket's changes, following y-protocols' rules (a newer clock replaces a state; "null"
   * with the same clock removes it) for the ids it owns or may claim; `maxPerOwner` bounds how many it
   * owns. Returns how many changes were accepted and how many were ignored for another socket's id.
   */
  apply(
    changes: AwarenessChange[],
    owner: Owner,
    maxPerOwner: number,
    now = Date.now(),
    /** Filled with the ids of the accepted changes, when given. */
    acceptedIds?: number[],
    /** Another node checked these already (ownership, limits): take them as they are. */
    trusted = false,
  ): { accepted: number; ignored: number } {
    let accepted = 0
    let ignored = 0
    for (const change of changes) {
      const current = this.entries.get(change.clientID)
      const currentClock = current?.clock ?? 0
      const removal = change.state === 'null'
      const newer = currentClock < change.clock
      const live = current !== undefined && current.state !== null
      // What y-protocols itself would skip (stock providers echo every state they receive) is not counted.
      if (removal ? !live || !(newer || currentClock === change.clock) : !newer) continue
      const mine = current !== undefined && current.owner === owner
      if (current !== undefined && !mine && !trusted && !this.mayClaim(current, owner, now)) {
        ignored++
        continue
      }
      if (removal) {
        this.entries.set(change.clientID, { clock: change.clock, state: null, owner, seenAt: now })
      } else {
        if (!mine && !trusted && this.countOwnedBy(owner) >= maxPerOwner) continue
        this.entries.set(change.clientID, { clock: change.clock, state: change.state, owner, seenAt: now })
      }
      this.markPending(change)
      acceptedIds?.push(change.clientID)
      accepted++
    }
    return { accepted, ignored }
  }

  /** Another socket's id may be taken over by the same verified user, or once its owner stopped renewing it. */
  private mayClaim(current: AwarenessEntry<Owner>, claimant: Owner, now: number): boolean {
    if (claimant.userId !== null && claimant.userId === current.owner.userId) return true
    return now - current.seenAt >= AWARENESS_OUTDATED_MS
  }

  /**
   * Removes every state the owner controls (its socket closed); returns how many were visible, and
   * adds their removals to `removals` when given.
   */
  removeOwnedBy(owner: Owner, removals?: AwarenessChange[]): number {
    let removed = 0
    for (const [clientID, entry] of this.entries) {
      if (entry.owner !== owner) continue
      this.entries.delete(clientID)
      if (entry.state === null) continue
      const removal = { clientID, clock: entry.clock, state: 'null' }
      this.markPending(removal)
      removals?.push(removal)
      removed++
    }
    return removed
  }

  /**
   * The whole room, for a client that just joined or asked (or only the states whose owner passes
   * `include`). Null when nobody has a state.
   */
  encodeAll(include?: (owner: Owner) => boolean): Uint8Array | null {
    const list: AwarenessChange[] = []
    for (const [clientID, { clock, state, owner }] of this.entries)
      if (state !== null && (include === undefined || include(owner))) list.push({ clientID, clock, state })
    return list.length === 0 ? null : encodeAwarenessStates(list)
  }

  /** Takes the changes since the last call, encoded as one update, or null when there were none. */
  takePending(): Uint8Array | null {
    const pending = this.pending
    if (pending === null) return null
    this.pending = null
    return encodeAwarenessStates(pending.values())
  }

  private markPending(change: AwarenessChange): void {
    if (this.pending === null) this.pending = new Map()
    this.pending.set(change.clientID, change)
  }

  private countOwnedBy(owner: Owner): number {
    let count = 0
    for (const entry of this.entries.values()) if (entry.owner === owner) count++
    return count
  }
}
