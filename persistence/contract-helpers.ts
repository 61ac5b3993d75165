// Small builders and readers the storage contract's cases share (contract.ts and its case files).
import type { DocumentStore, WriteBatch } from './store.js'

export const bytes = (...markers: number[]) => new Uint8Array(markers)
export const appends = (room: string, ...markers: number[]): WriteBatch => ({
  appends: markers.map((marker) => ({ room, update: bytes(marker) })),
  compactions: [],
})
export const compaction = (room: string, through: number, ...markers: number[]): WriteBatch => ({
  appends: [],
  compactions: [{ room, snapshot: bytes(...markers), through }],
})

/** Every marker in a room: the snapshot's bytes and the log's, sorted (a CRDT applies each once). */
export async function markers(store: DocumentStore, room: string): Promise<number[]> {
  const { snapshot, updates } = await store.load(room)
  return [...new Set([...(snapshot ?? []), ...updates.flatMap((u) => [...u])])].sort((a, b) => a - b)
}

/** What load returned, with plain arrays for bytes (a store may return Buffers). */
export async function read(store: DocumentStore, room: string) {
  const { snapshot, updates, ...rest } = await store.load(room)
  return { ...rest, snapshot: snapshot && [...snapshot], updates: updates.map((update) => [...update]) }
}

export const utf8Order = (names: string[]) =>
  [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
