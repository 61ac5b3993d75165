// What a receiver gets: one event per room per debounced batch of changes. The body is built once and
// kept byte for byte in the outbox, so every retry sends the same body with the same id.
import { randomUUID } from 'node:crypto'
import type { Origin } from '../documents/origin.js'

/** A room's changes since its last event: who made them, how many, when. */
export interface ChangeBatch {
  readonly room: string
  /** Distinct origins (a busy room repeats the same few thousands of times), by originKey. */
  readonly origins: Map<string, Origin>
  changes: number
  readonly firstChangeAt: number
  lastChangeAt: number
}

export interface WebhookEvent {
  type: 'document.changed'
  /** Unique per event and the same on every retry: receivers dedupe by it. */
  id: string
  room: string
  /** Distinct verified user ids, and "server" for server-side edits (no entry for unauthenticated clients). */
  userIds: string[]
  origins: Origin[]
  changes: number
  firstChangeAt: string
  lastChangeAt: string
  /** When plait closed the batch and queued the event (the attempt's time is in the timestamp header). */
  sentAt: string
  text?: string
}

export function newBatch(room: string, now: number): ChangeBatch {
  return { room, origins: new Map(), changes: 0, firstChangeAt: now, lastChangeAt: now }
}

export function addChange(batch: ChangeBatch, origins: readonly Origin[], now: number): void {
  batch.changes++
  batch.lastChangeAt = now
  for (const origin of origins) {
    const key = originKey(origin)
    if (!batch.origins.has(key)) batch.origins.set(key, origin)
  }
}

/** Cheap enough for every change: a connection id already names its user. */
function originKey(origin: Origin): string {
  if (origin.kind === 'client') return `c${origin.connectionId}`
  return origin.kind === 'remote' ? `r${origin.node}` : 's'
}

export function userIdsOf(origins: Iterable<Origin>): string[] {
  const ids = new Set<string>()
  for (const origin of origins) {
    if (origin.kind === 'client' && origin.userId !== null) ids.add(origin.userId)
    else if (origin.kind === 'server') ids.add('server')
  }
  return [...ids]
}

export function eventOf(batch: ChangeBatch, now: number, text?: string): WebhookEvent {
  const origins = [...batch.origins.values()]
  const event: WebhookEvent = {
    type: 'document.changed',
    id: `evt_${randomUUID()}`,
    room: batch.room,
    userIds: userIdsOf(origins),
    origins,
    changes: batch.changes,
    firstChangeAt: new Date(batch.firstChangeAt).toISOString(),
    lastChangeAt: new Date(batch.lastChangeAt).toISOString(),
    sentAt: new Date(now).toISOString(),
  }
  if (text !== undefined) event.text = text
  return event
}
