// The contract's cases for named versions (persistence/store.ts): kept apart from the log, so writes and
// compactions never change them; deleted with their room; any room name, any id without control characters.
import assert from 'node:assert/strict'
import type { DocumentStore, StoredVersion } from './store.js'

type Case = (title: string, body: (store: DocumentStore, other: DocumentStore) => Promise<void>) => void

const version = (id: string, createdAt: number, ...markers: number[]): StoredVersion => ({
  id,
  name: `version ${id}`,
  createdAt,
  createdBy: id === 'b' ? null : 'alice',
  snapshot: new Uint8Array(markers),
})

/** What loadVersion returned, with plain arrays for bytes (a store may return Buffers). */
async function loaded(store: DocumentStore, room: string, id: string) {
  const found = await store.loadVersion(room, id)
  return found && { ...found, snapshot: [...found.snapshot] }
}

export function versionCases(it: Case): void {
  it('versions are saved, listed newest first with their size, and loaded whole', async (store, other) => {
    await store.write({ appends: [{ room: 'doc', update: new Uint8Array([1]) }], compactions: [] })
    await store.saveVersion('doc', version('a', 1000, 1, 2, 3))
    await other.saveVersion('doc', version('c', 3000, 9))
    await store.saveVersion('doc', version('b', 3000, 4, 5))
    assert.deepEqual(await other.listVersions('doc'), [
      { id: 'c', name: 'version c', createdAt: 3000, createdBy: 'alice', size: 1 },
      { id: 'b', name: 'version b', createdAt: 3000, createdBy: null, size: 2 },
      { id: 'a', name: 'version a', createdAt: 1000, createdBy: 'alice', size: 3 },
    ])
    assert.deepEqual(await loaded(other, 'doc', 'a'), { ...version('a', 1000), snapshot: [1, 2, 3] })
    assert.equal(await store.loadVersion('doc', 'nope'), null)
    assert.deepEqual(await store.listVersions('other'), [])
    assert.equal(await store.loadVersion('other', 'a'), null, 'versions belong to their room')
  })

  it('versions survive appends and compactions of their room, and do not make a room exist', async (store) => {
    await store.saveVersion('lonely', version('v', 1, 7))
    assert.equal(await store.hasRoom('lonely'), false)
    assert.deepEqual(await store.listRooms(), [])
    await store.write({ appends: [{ room: 'doc', update: new Uint8Array([1]) }], compactions: [] })
    await store.saveVersion('doc', version('v', 2, 1))
    const { position } = await store.load('doc')
    await store.write({
      appends: [{ room: 'doc', update: new Uint8Array([2]) }],
      compactions: [{ room: 'doc', snapshot: new Uint8Array([1]), through: position }],
    })
    const again = await store.load('doc')
    await store.write({
      appends: [],
      compactions: [{ room: 'doc', snapshot: new Uint8Array([1, 2]), through: again.position }],
    })
    assert.deepEqual(await loaded(store, 'doc', 'v'), { ...version('v', 2), snapshot: [1] })
    assert.equal((await store.listVersions('doc')).length, 1)
  })

  it('rooms with any name keep their own versions; ids with control characters are refused', async (store, other) => {
    const rooms = ['__proto__', 'constructor', 'é/ü', 'n\u{1f600}', 'n\ue000', 'a', 'a/b']
    for (const [i, room] of rooms.entries()) {
      await (i % 2 === 0 ? store : other).saveVersion(room, version(`id ${room}`, i, i))
    }
    await store.saveVersion('n\u{1f600}', version('\u{1f600} é', 99, 42))
    for (const [i, room] of rooms.entries()) {
      const listed = await other.listVersions(room)
      const own = room === 'n\u{1f600}' ? 2 : 1
      assert.equal(listed.length, own, `${room} has only its own versions`)
      assert.deepEqual((await loaded(store, room, `id ${room}`))?.snapshot, [i])
    }
    assert.deepEqual((await loaded(other, 'n\u{1f600}', '\u{1f600} é'))?.snapshot, [42])
    for (const id of ['', 'a\0b', 'tab\t']) {
      await assert.rejects(Promise.resolve().then(() => store.saveVersion('a', version(id, 1, 1))))
    }
  })

  it('deleteRoom deletes its versions and no other room’s', async (store, other) => {
    await store.write({ appends: [{ room: 'gone', update: new Uint8Array([1]) }], compactions: [] })
    await store.saveVersion('gone', version('v1', 1, 1))
    await store.saveVersion('gone', version('v2', 2, 2))
    await store.saveVersion('gone/child', version('v1', 1, 3))
    await store.saveVersion('gon', version('v1', 1, 4))
    await other.deleteRoom('gone')
    assert.deepEqual(await store.listVersions('gone'), [])
    assert.equal(await store.loadVersion('gone', 'v1'), null)
    assert.deepEqual((await loaded(store, 'gone/child', 'v1'))?.snapshot, [3])
    assert.deepEqual((await loaded(store, 'gon', 'v1'))?.snapshot, [4])
  })
}
