// Server-side editing: a handle on a live document that an app holds while it reads or edits it, whether
// or not anyone is connected. An edit goes through the same persist-then-publish path as a client's,
// with the server as its origin.
import type * as Y from 'yjs'
import type { Room } from './room.js'

export interface DocumentHandle {
  readonly room: string
  /** The live document: read it any time; change it through transact. */
  readonly doc: Y.Doc
  /** Makes a change; resolves once it is durable (every connected client has then been sent it). */
  transact(change: (doc: Y.Doc) => void): Promise<void>
  /** Lets the room unload when nobody else uses it. The handle is unusable afterwards. */
  release(): void
}

export function handleOn(room: Room): DocumentHandle {
  let released = false
  room.hold()
  return {
    room: room.name,
    doc: room.doc,
    transact: (change) =>
      released ? Promise.reject(new Error('this document handle was released')) : room.edit(change),
    release: () => {
      if (released) return
      released = true
      room.release()
    },
  }
}
