// What the document API needs from the server: storage reads, the rooms, server-side editing, deletion
// and the change events. Passed in by server.ts, so this folder knows no registry or store internals.

import type { RoomInfo } from '../../../persistence/store.js'
import type { DocumentHandle } from '../../documents/document-handle.js'
import type { DocumentEvents } from '../../documents/events.js'
import type { Room } from '../../documents/room.js'
import type { Versions } from '../../documents/versions.js'
import type { ListRooms } from '../room-listing.js'
import type { CallerDeps } from './caller.js'

export interface FeedLimits {
  /** Open change feeds (GET /api/docs/:room/events) in the whole server; past it 503. */
  maxFeeds: number
  /** A comment line every this many ms keeps proxies from closing an idle feed. */
  heartbeatMs: number
  /** Recent changes kept per watched room for Last-Event-ID resumes: at most this many… */
  ringChanges: number
  /** … and this many bytes of updates. */
  ringBytes: number
  /** A room's recent changes are kept this long after its last feed closed, for a reconnect. */
  ringKeepMs: number
}

export const defaultFeedLimits: FeedLimits = {
  maxFeeds: 500,
  heartbeatMs: 15_000,
  ringChanges: 512,
  ringBytes: 1024 * 1024,
  ringKeepMs: 60_000,
}

export interface DocsDeps extends CallerDeps {
  /** The largest update a POST may carry, and the largest document. */
  maxDocumentBytes: number
  listRooms: ListRooms
  hasRoom(room: string): Promise<boolean>
  /** What storage records about rooms' size and last change (store.describeRooms). */
  describeRooms(rooms: readonly string[]): Promise<Map<string, RoomInfo>>
  /** The room, loaded (null when the process holds its maximum of rooms). */
  openRoom(name: string): Room | null
  loadedRoom(name: string): Room | undefined
  /** A held live document (server.openDocument); rejects when the server is not ready. */
  openDocument(room: string): Promise<DocumentHandle>
  /** Closes the room's clients with 4404, drops it from memory and deletes its storage. */
  deleteDocument(room: string): Promise<void>
  /** Named versions (server.versions). */
  versions: Versions
  events: DocumentEvents
  feeds: FeedLimits
}
