// What an embedding app can hook into: typed, each hook optional, sync or async. Several extensions
// compose, in order. Hooks are told after the fact (a change once it is durable), off the path that
// applies and broadcasts edits: a slow or failing hook delays only other hooks, never a room.
import type * as Y from 'yjs'
import type { Authenticate } from '../auth/authenticators.js'
import type { DocumentEventMap } from '../documents/events.js'

export interface LoadContext {
  room: string
  /** The document as stored; changes made here are stored like a server-side edit. */
  doc: Y.Doc
  /** True for a room nobody ever wrote to: seed it here (a template, say). */
  isNew: boolean
}

export interface Extension {
  /** How long one of this extension's hooks may take before it is logged and left behind (10 s). */
  timeoutMs?: number
  /** Your own token check (see ServerOptions.authenticate); the first extension that has one is used. */
  authenticate?: Authenticate
  /** Before anyone sees the document: seed a new one or transform a loaded one. */
  onLoad?(context: LoadContext): void | Promise<void>
  /** A change is durable, with who made it (client with user and connection id, server, remote node). */
  onChange?(event: DocumentEventMap['changed']): void | Promise<void>
  /** A batch of a room's changes is on disk. */
  onStored?(event: DocumentEventMap['stored']): void | Promise<void>
  onConnect?(event: DocumentEventMap['connected']): void | Promise<void>
  onDisconnect?(event: DocumentEventMap['disconnected']): void | Promise<void>
  onUnload?(event: DocumentEventMap['unloaded']): void | Promise<void>
  /** Awareness states a member changed (their client ids). */
  onAwareness?(event: DocumentEventMap['awareness']): void | Promise<void>
  /** A Hocuspocus provider's stateless message; answer with `server.sendStateless(room, payload)`. */
  onStateless?(event: DocumentEventMap['stateless']): void | Promise<void>
}

/** Which document event each hook follows. */
export const hookEvents = {
  onChange: 'changed',
  onStored: 'stored',
  onConnect: 'connected',
  onDisconnect: 'disconnected',
  onUnload: 'unloaded',
  onAwareness: 'awareness',
  onStateless: 'stateless',
} as const satisfies Partial<Record<keyof Extension, keyof DocumentEventMap>>
