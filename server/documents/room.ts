// A room over its whole life: the loaded document and its traffic (loaded-room.ts), plus what the server
// itself does with it: hold it open for server-side edits, unload it when idle, discard it for a deletion,
// and close it for a shutdown; and in a cluster, what other nodes appended to its log.
import * as Y from 'yjs'
import type { StoredRoom } from '../../persistence/store.js'
import { LoadedRoom } from './loaded-room.js'
import { REMOTE_TRANSACTION, remoteOrigin, serverOrigin } from './origin.js'
import { applyStoredHistory } from './yjs-state.js'

export type { RoomLimits, RoomMember } from './member.js'

const ignore = () => {}

export class Room extends LoadedRoom {
  /** Keeps the room loaded for a server-side handle until release(). */
  hold(): void {
    this.holds++
    this.emptySince = null
    if (this.state === 'unloading') this.state = 'ready'
  }

  release(): void {
    if (this.holds === 0) return
    this.holds--
    if (this.holds === 0 && this.members.size === 0) this.emptySince = Date.now()
  }

  /**
   * A server-side edit (origin: the server): applied like a client's change, after what clients sent
   * before it; resolves once it is durable, when every member has been sent it.
   */
  async edit(change: (doc: Y.Doc) => void): Promise<void> {
    await this.ready
    if (this.state !== 'ready') throw new Error(`room "${this.name}" is not open for edits (${this.state})`)
    this.applyQueued()
    const before = this.durability.applied
    this.serverEditing = true
    try {
      this.doc.transact(() => change(this.doc), serverOrigin)
    } finally {
      this.serverEditing = false
    }
    if (this.durability.applied > before) await this.durability.whenDurable()
  }

  /**
   * Writes what is pending, compacts the log, and frees the memory if still nobody is here.
   * Returns true when the room was unloaded (false: someone joined meanwhile).
   */
  async unload(): Promise<boolean> {
    if (this.state !== 'ready' && this.state !== 'unloading') return this.state === 'unloaded'
    this.state = 'unloading'
    this.applyQueued()
    await this.durability.whenSettled()
    this.compactNow()
    await this.durability.whenSettled()
    if (this.members.size > 0 || this.holds > 0 || this.state !== 'unloading') return false
    this.state = 'unloaded'
    this.free()
    this.events.emit('unloaded', { room: this.name })
    return true
  }

  /**
   * For a deletion: closes every member with `code`, takes no more changes and frees the memory without
   * compacting (the caller deletes the storage next). Resolves once writes already under way are done,
   * so none of them lands after the deletion.
   */
  async discard(code: number, reason: string): Promise<void> {
    await this.ready.catch(ignore)
    if (this.state !== 'ready' && this.state !== 'unloading') return
    // 'unloading' refuses server edits; a member joining meanwhile is closed below as well.
    this.state = 'unloading'
    this.expelAll(code, reason)
    // An unload under way may start a compaction as it wakes: wait until nothing at all is in flight.
    do await this.durability.whenSettled()
    while (!this.settled)
    this.expelAll(code, reason)
    if (this.state !== 'unloading' && this.state !== 'ready') return
    this.state = 'unloaded'
    this.free()
    this.events.emit('unloaded', { room: this.name })
  }

  /** For shutdown: closes every member with the given code, then writes and compacts. */
  async shutdown(code: number, reason: string): Promise<void> {
    this.applyQueued()
    this.expelAll(code, reason)
    if (this.state === 'ready' || this.state === 'unloading') await this.unload()
  }

  /**
   * The shared log's entries from `first` on, in log order (a cluster's follower). Another node's
   * (`writer`) are durable already: applied and sent to every member at once. This node's own
   * (`writer` null) are applied here already. Either way a snapshot may now cover them.
   */
  followLog(first: number, writer: string | null, updates: Uint8Array[]): void {
    if (this.state !== 'ready' && this.state !== 'unloading') return
    const last = first + updates.length - 1
    if (writer === null) {
      this.book.followed(last, [])
      return
    }
    try {
      this.doc.transact(() => {
        for (const update of updates) Y.applyUpdate(this.doc, update)
      }, REMOTE_TRANSACTION)
    } catch (error) {
      this.log.error(
        { room: this.name, err: error, node: writer },
        'an update from another node did not apply',
      )
    }
    this.firstSync.changed()
    this.broadcaster.add(updates, null)
    this.feed.relayed(updates, remoteOrigin(writer))
    this.book.followed(last, updates)
    this.maybeCompact()
  }

  /**
   * The stored room as a whole, for a follower that fell behind a compaction's trim: merged (a CRDT
   * applies what it has once), and what it added sent on to every member.
   */
  mergeStored(stored: StoredRoom): void {
    if (this.state !== 'ready' && this.state !== 'unloading') return
    const before = Y.encodeStateVector(this.doc)
    applyStoredHistory(this.doc, stored.snapshot, stored.updates, REMOTE_TRANSACTION)
    const added = Y.encodeStateAsUpdate(this.doc, before)
    this.firstSync.changed()
    this.broadcaster.add([added], null)
    this.book.followed(stored.position, [])
  }

  /**
   * The shared log lost entries this room holds (Redis restarted without them) and goes on from
   * `position`: the whole document is written again as one change, so what anyone saw is durable again.
   */
  rewriteLog(position: number): void {
    if (this.state !== 'ready' && this.state !== 'unloading') return
    this.book.restartedAt(position)
    this.onChange(Y.encodeStateAsUpdate(this.doc), null, performance.now())
  }
}
