// The contract's cases for describeRooms (persistence/store.ts): a room's bytes in storage and when it last
// changed, kept by every write, absent for a room that does not exist. A store may count a snapshot as it
// stores it (LevelDB adds a header), so a snapshot is only a lower bound; a log entry counts exactly.
import assert from 'node:assert/strict'
import type { DocumentStore, RoomInfo } from './store.js'

type Case = (title: string, body: (store: DocumentStore, other: DocumentStore) => Promise<void>) => void

const filled = (length: number, marker: number) => new Uint8Array(length).fill(marker)
const appendTo = (store: DocumentStore, room: string, ...lengths: number[]) =>
  store.write({
    appends: lengths.map((length, i) => ({ room, update: filled(length, i + 1) })),
    compactions: [],
  })

/** The room's info, which must be there. */
async function infoOf(store: DocumentStore, room: string): Promise<RoomInfo & { bytes: number }> {
  const info = (await store.describeRooms([room])).get(room)
  assert.ok(info !== undefined, `${room} is described`)
  assert.ok(info.bytes !== null, `${room}'s bytes are known`)
  return { ...info, bytes: info.bytes }
}

function assertWithin(at: number | null, from: number, to: number): void {
  assert.ok(at !== null && at >= from && at <= to, `lastChange ${at} in [${from}, ${to}]`)
}

export function roomInfoCases(it: Case): void {
  it('describeRooms counts the appended bytes and when they were written; unknown rooms are absent', async (store, other) => {
    const from = Date.now()
    await appendTo(store, 'a', 100, 200, 300)
    await appendTo(other, 'b', 10)
    await appendTo(store, 'a', 50)
    const to = Date.now()
    const infos = await other.describeRooms(['a', 'nobody', 'b'])
    assert.deepEqual([...infos.keys()].sort(), ['a', 'b'], 'a room never written is absent')
    assert.equal(infos.get('a')?.bytes, 650, 'the sum of the appended updates')
    assert.equal(infos.get('b')?.bytes, 10)
    assertWithin(infos.get('a')?.lastChange ?? null, from, to)
    assertWithin(infos.get('b')?.lastChange ?? null, from, to)
    assert.equal((await store.describeRooms([])).size, 0)
  })

  it('a compaction that covers most of the log shrinks the bytes; a snapshot counts', async (store, other) => {
    const from = Date.now()
    await appendTo(store, 'doc', 1000, 1000, 1000)
    const { position } = await store.load('doc')
    await appendTo(other, 'doc', 40)
    const before = await infoOf(store, 'doc')
    assert.equal(before.bytes, 3040)
    await other.write({
      appends: [],
      compactions: [{ room: 'doc', snapshot: filled(100, 9), through: position }],
    })
    const after = await infoOf(store, 'doc')
    assert.ok(after.bytes >= 140, `${after.bytes}: at least the snapshot and the entry after it`)
    assert.ok(after.bytes < 1000, `${after.bytes}: the covered entries no longer count`)
    assertWithin(after.lastChange, from, Date.now())
    // An append after the compaction adds exactly its length.
    await appendTo(store, 'doc', 7)
    assert.equal((await infoOf(other, 'doc')).bytes, after.bytes + 7)
  })

  it('the accounting holds across a reopen, whether the room is loaded first or not', async (store) => {
    await appendTo(store, 'loaded', 30, 30)
    await appendTo(store, 'unread', 20)
    const { position } = await store.load('unread')
    await store.write({
      appends: [],
      compactions: [{ room: 'unread', snapshot: filled(5, 1), through: position }],
    })
    await appendTo(store, 'unread', 8)
    const loaded = await infoOf(store, 'loaded')
    const unread = await infoOf(store, 'unread')
    await store.close()
    await store.open()
    assert.deepEqual(await infoOf(store, 'loaded'), loaded, 'the info is stored, not only remembered')
    await store.load('loaded')
    await appendTo(store, 'loaded', 3)
    await appendTo(store, 'unread', 4)
    assert.equal((await infoOf(store, 'loaded')).bytes, loaded.bytes + 3)
    assert.equal((await infoOf(store, 'unread')).bytes, unread.bytes + 4)
  })

  it('a deleted room is absent from describeRooms, and a new append starts its count again', async (store, other) => {
    await appendTo(store, 'gone', 100)
    await appendTo(store, 'kept', 5)
    await other.deleteRoom('gone')
    const infos = await store.describeRooms(['gone', 'kept'])
    assert.deepEqual([...infos.keys()], ['kept'])
    await appendTo(other, 'gone', 3)
    assert.equal((await infoOf(store, 'gone')).bytes, 3)
  })
}
