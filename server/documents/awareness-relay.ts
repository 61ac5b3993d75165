// Awareness in a room: what members send is checked (size, nesting, who owns each id), optionally
// stamped with the sender's verified user id, and relayed. Cursor moves from many sockets in one turn
// leave as one message; the sender gets it too (a keep-alive for stock clients), and its own echo waits
// until its edits are durable, so the echo doubles as a save receipt. A big room is paced like its
// updates (broadcaster.ts), to --awareness-frames-per-second in all: one awareness message every
// members × 1000 / that ms, carrying each client's latest state; a write per member per cursor move turn
// was what a room of hundreds moving cursors spent its CPU on.
import { encodeAwareness } from '../protocol/messages.js'
import {
  type AwarenessChange,
  AwarenessState,
  decodeAwarenessUpdate,
  encodeAwarenessStates,
} from './awareness-state.js'
import type { Durability } from './durability.js'
import type { DocumentEvents } from './events.js'
import { clientOrigin } from './origin.js'

export interface AwarenessMember {
  readonly id: number
  readonly userId: string | null
  /** Position of the last change this member made (0: none). */
  lastUpdateSeq: number
  send(message: Uint8Array, shared?: boolean): void
}

export interface AwarenessLimits {
  maxAwarenessPerSocket: number
  maxAwarenessStateBytes: number
  /** Stamp each state with the sender's verified user id (user.id). */
  awarenessUserId: boolean
  /** Awareness frames a busy room sends per second in all (one per member per broadcast). */
  awarenessFramesPerSecond: number
}

/** Awareness states with the sender's verified user id written in as user.id (other user fields kept). */
function stampUserId(changes: AwarenessChange[], userId: string): AwarenessChange[] {
  return changes.map((change) => {
    if (change.state === 'null') return change
    const state: unknown = JSON.parse(change.state)
    if (state === null || typeof state !== 'object' || Array.isArray(state)) return change
    const record = state as Record<string, unknown>
    const user = record.user !== null && typeof record.user === 'object' ? record.user : {}
    return { ...change, state: JSON.stringify({ ...record, user: { ...user, id: userId } }) }
  })
}

/** Where a room's awareness meets other nodes' (a cluster): the changes of this node's members go out. */
export interface AwarenessPeers<Member> {
  /** This node's members' accepted changes of one turn, as one awareness update. */
  publish(update: Uint8Array): void
  /** Whether `owner` stands for another node (its states are not this node's to publish). */
  isPeer(owner: Member): boolean
}

export class AwarenessRelay<Member extends AwarenessMember> {
  readonly states = new AwarenessState<Member>()
  private scheduled = false
  /** Set in a cluster. */
  peers: AwarenessPeers<Member> | null = null
  // This turn's changes by this node's members, for the other nodes.
  private outgoing: Map<number, AwarenessChange> | null = null

  constructor(
    private readonly members: ReadonlySet<Member>,
    private readonly durability: Durability<Member>,
    private readonly limits: AwarenessLimits,
    /** Edits received before an awareness update must count for its receipt: applied first. */
    private readonly beforeBroadcast: () => void,
    private readonly room: string,
    private readonly events: DocumentEvents,
  ) {}

  /** A member's awareness update. Throws ProtocolError for a malformed or oversized one. */
  receive(member: Member, update: Uint8Array): void {
    const { maxAwarenessStateBytes, awarenessUserId, maxAwarenessPerSocket } = this.limits
    let changes = decodeAwarenessUpdate(update, maxAwarenessStateBytes)
    if (awarenessUserId && member.userId !== null) changes = stampUserId(changes, member.userId)
    const ids: number[] = []
    const { accepted, ignored } = this.states.apply(changes, member, maxAwarenessPerSocket, Date.now(), ids)
    if (ignored > 0) this.events.emit('awarenessIgnored', { room: this.room, changes: ignored })
    if (accepted === 0) return
    if (this.peers !== null) {
      const taken = new Set(ids)
      this.toPeers(changes.filter((change) => taken.has(change.clientID)))
    }
    if (this.events.has('awareness'))
      this.events.emit('awareness', { room: this.room, origin: clientOrigin(member), clients: ids })
    this.schedule()
  }

  /** Everyone's states, for a member that joined or asked. */
  sendAll(member: Member): void {
    const everyone = this.states.encodeAll()
    if (everyone !== null) member.send(encodeAwareness(everyone))
  }

  /** The member left: its states are removed and the removal is relayed. */
  leave(member: Member): void {
    const removals: AwarenessChange[] | undefined = this.peers === null ? undefined : []
    if (this.states.removeOwnedBy(member, removals) === 0) return
    if (removals !== undefined) this.toPeers(removals)
    this.schedule()
  }

  /** Another node's members' changes (`peer` stands for that node): relayed to this node's members. */
  receiveFromPeer(peer: Member, update: Uint8Array): void {
    const changes = decodeAwarenessUpdate(update, Number.MAX_SAFE_INTEGER)
    if (this.states.apply(changes, peer, Number.MAX_SAFE_INTEGER, Date.now(), undefined, true).accepted > 0)
      this.schedule()
  }

  /** That node is gone: the states it stood for are removed here. */
  dropPeer(peer: Member): void {
    if (this.states.removeOwnedBy(peer) > 0) this.schedule()
  }

  /** The states of this node's own members, for a node that asked; null when there are none. */
  encodeOwn(): Uint8Array | null {
    const peers = this.peers
    return this.states.encodeAll(peers === null ? undefined : (owner) => !peers.isPeer(owner))
  }

  private toPeers(changes: AwarenessChange[]): void {
    if (changes.length === 0) return
    this.outgoing ??= new Map()
    for (const change of changes) this.outgoing.set(change.clientID, change)
    this.schedule()
  }

  /** When the last broadcast left (performance.now()). */
  private last = 0

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    const interval = (this.members.size * 1000) / this.limits.awarenessFramesPerSecond
    const wait = this.last + interval - performance.now()
    // A small or quiet room relays at the end of this turn, as before; a busy one when its interval is up.
    if (wait < 1) setImmediate(this.flush)
    else setTimeout(this.flush, wait)
  }

  private readonly flush = (): void => {
    this.scheduled = false
    this.last = performance.now()
    this.beforeBroadcast()
    const outgoing = this.outgoing
    this.outgoing = null
    if (outgoing !== null) this.peers?.publish(encodeAwarenessStates(outgoing.values()))
    const changes = this.states.takePending()
    if (changes === null) return
    const message = encodeAwareness(changes)
    for (const member of this.members) {
      if (member.lastUpdateSeq > this.durability.durable)
        this.durability.sendWhenDurable(member, message, member.lastUpdateSeq)
      else member.send(message, true)
    }
  }
}
