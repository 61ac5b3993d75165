// The awareness states of one room (cursors, names, presence), kept as the JSON text clients sent.
// A relay never needs the parsed objects, so states are stored and re-encoded as strings; this also
// avoids y-protocols' Awareness, which starts a timer per instance (one per room).
//
// Encoding (y-protocols/awareness): varUint(count), then per client varUint(clientID), varUint(clock),
// varString(JSON state, "null" when removed).
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { ProtocolError } from './protocol.js'

export interface AwarenessEntry<Owner> {
  clock: number
  state: string
  owner: Owner
}

export interface AwarenessChange {
  clientID: number
  clock: number
  state: string
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Reads an awareness update; throws ProtocolError when it is malformed or a state is not JSON. */
export function decodeAwarenessUpdate(update: Uint8Array): AwarenessChange[] {
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
      const state = utf8.decode(decoding.readUint8Array(decoder, length))
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
export class AwarenessState<Owner> {
  readonly entries = new Map<number, AwarenessEntry<Owner>>()
  // Changes since the last broadcast, so a burst of cursor moves leaves as one frame.
  private pending: Map<number, AwarenessChange> | null = null

  get size(): number {
    return this.entries.size
  }

  /** Applies client changes; returns how many were accepted. `maxPerOwner` bounds what one socket controls. */
  apply(changes: AwarenessChange[], owner: Owner, maxPerOwner: number): number {
    let accepted = 0
    for (const change of changes) {
      const current = this.entries.get(change.clientID)
      const currentClock = current?.clock ?? 0
      const removal = change.state === 'null'
      if (
        !(currentClock < change.clock || (removal && current !== undefined && currentClock === change.clock))
      )
        continue
      if (removal) {
        if (current === undefined) continue
        this.entries.delete(change.clientID)
      } else {
        if (current === undefined && this.countOwnedBy(owner) >= maxPerOwner) continue
        this.entries.set(change.clientID, { clock: change.clock, state: change.state, owner })
      }
      this.markPending(change)
      accepted++
    }
    return accepted
  }

  /** Removes every state the owner controls (its socket closed); returns how many. */
  removeOwnedBy(owner: Owner): number {
    let removed = 0
    for (const [clientID, entry] of this.entries) {
      if (entry.owner !== owner) continue
      this.entries.delete(clientID)
      this.markPending({ clientID, clock: entry.clock, state: 'null' })
      removed++
    }
    return removed
  }

  /** The whole room, for a client that just joined or asked. Null when nobody has a state. */
  encodeAll(): Uint8Array | null {
    if (this.entries.size === 0) return null
    const list: AwarenessChange[] = []
    for (const [clientID, { clock, state }] of this.entries) list.push({ clientID, clock, state })
    return encodeAwarenessStates(list)
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
