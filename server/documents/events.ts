// What the document core tells the rest of the server, typed, after the fact: a change is announced once
// it is durable, with its origin. Metrics, logs and (later) hooks, webhooks, versions and the cluster
// subscribe here; nothing is wired into the hot path by hand. A listener that throws is reported and
// never breaks the room that emitted.
import type { Origin } from './origin.js'

export interface DocumentEventMap {
  loaded: { room: string; updates: number; ms: number }
  /** A change is durable (every member may now see it); `origins` are who made it (several: one turn). */
  changed: { room: string; update: Uint8Array; origins: readonly Origin[] }
  /** A write batch holding `updates` of this room's changes is on disk. */
  stored: { room: string; updates: number; bytes: number }
  compacted: { room: string; snapshotBytes: number }
  unloaded: { room: string }
  /** The document was deleted here (its storage too); `code` and `reason` closed its members. */
  deleted: { room: string; code: number; reason: string }
  failed: { room: string; error: Error }
  connected: { room: string; origin: Origin }
  disconnected: { room: string; origin: Origin }
  /** Awareness states a member changed (ids), as accepted. */
  awareness: { room: string; origin: Origin; clients: readonly number[] }
  /** Time from receiving the oldest update in a broadcast to sending that broadcast. */
  relayed: { room: string; ms: number }
  heldBack: { room: string; updates: number }
  heldBackDropped: { room: string; updates: number }
  awarenessIgnored: { room: string; changes: number }
  /** A Hocuspocus provider's stateless message (sendStateless) for this room; nothing is stored. */
  stateless: { room: string; origin: Origin; payload: string }
}

export type DocumentEventName = keyof DocumentEventMap
type Listener<K extends DocumentEventName> = (event: DocumentEventMap[K]) => void

export class DocumentEvents {
  private readonly listeners: { [K in DocumentEventName]?: Listener<K>[] } = {}

  constructor(private readonly onListenerError: (name: DocumentEventName, error: unknown) => void) {}

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends DocumentEventName>(name: K, listener: Listener<K>): () => void {
    let list = this.listeners[name] as Listener<K>[] | undefined
    if (list === undefined) {
      list = []
      ;(this.listeners as Record<DocumentEventName, unknown>)[name] = list
    }
    list.push(listener)
    return () => {
      const at = list.indexOf(listener)
      if (at !== -1) list.splice(at, 1)
    }
  }

  /** Whether anyone listens: an emitter can skip building an event nobody reads. */
  has(name: DocumentEventName): boolean {
    return (this.listeners[name]?.length ?? 0) > 0
  }

  emit<K extends DocumentEventName>(name: K, event: DocumentEventMap[K]): void {
    const list = this.listeners[name] as Listener<K>[] | undefined
    if (list === undefined) return
    for (const listener of list) {
      try {
        listener(event)
      } catch (error) {
        this.onListenerError(name, error)
      }
    }
  }
}
