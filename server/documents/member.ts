// The two things a room is given from outside: its members (a client's socket as the core sees it, or
// one document on a socket that carries several) and its limits.
import type { CompactionLimits } from './log-book.js'

/** A member of a room (a client's socket, as the core sees it): it receives messages, not wire frames. */
export interface RoomMember {
  readonly id: number
  readonly canWrite: boolean
  /** The verified user (null without auth). */
  readonly userId: string | null
  /** Position of the last change this member made (0: none); set by the room. */
  lastUpdateSeq: number
  /** `shared`: the same message goes to many members (encode it once). */
  send(message: Uint8Array, shared?: boolean): void
  close(code: number, reason: string): void
}

export interface RoomLimits extends CompactionLimits {
  maxAwarenessPerSocket: number
  maxAwarenessStateBytes: number
  awarenessUserId: boolean
  /** A room's document may not grow past this (4413). */
  maxDocumentBytes: number
  roomFramesPerSecond: number
  awarenessFramesPerSecond: number
  /** Other nodes append to the same log (a cluster): see LogBook.shared. */
  sharedLog?: boolean
}
