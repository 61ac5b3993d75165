// Another node, as the owner of the awareness states it relays into one room: a member that is never in
// the room's member set, so nothing is sent to it, and whose states go when that node does.
import type { RoomMember } from '../documents/member.js'

export class RemotePeer implements RoomMember {
  readonly id = -1
  readonly canWrite = false
  readonly userId = null
  lastUpdateSeq = 0

  constructor(readonly node: string) {}

  send(): void {}

  close(): void {}
}

export const isPeer = (owner: RoomMember): boolean => owner instanceof RemotePeer
