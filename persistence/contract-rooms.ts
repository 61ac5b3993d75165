// The contract's cases for which rooms exist: listing in UTF-8 byte order page by page, deleteRoom, and
// rooms another writer creates or deletes meanwhile.
import assert from 'node:assert/strict'
import { appends, compaction, markers, read, utf8Order } from './contract-helpers.js'
import { compareRoomNames, type DocumentStore } from './store.js'

type Case = (title: string, body: (store: DocumentStore, other: DocumentStore) => Promise<void>) => void

export function roomListCases(it: Case): void {
  it('rooms are listed in UTF-8 byte order, page by page, names like __proto__ included', async (store, other) => {
    const names = [
      'b',
      'a',
      'a/b',
      'a0',
      '__proto__',
      'constructor',
      'toString',
      'é',
      'n\ue000',
      'n\u{1f600}',
      'zz',
    ]
    for (const [i, room] of names.entries()) await (i % 2 === 0 ? store : other).write(appends(room, i))
    const sorted = utf8Order(names)
    assert.deepEqual([...names].sort(compareRoomNames), sorted)
    assert.deepEqual(await store.listRooms(), sorted)
    assert.deepEqual(await other.listRooms({ limit: 3 }), sorted.slice(0, 3))
    for (const [i, room] of sorted.entries()) {
      assert.deepEqual(await store.listRooms({ after: room, limit: 2 }), sorted.slice(i + 1, i + 3))
      assert.equal(await other.hasRoom(room), true)
      assert.deepEqual((await read(other, room)).updates, [[names.indexOf(room)]])
    }
    // A cursor need not be a stored name.
    assert.deepEqual(await store.listRooms({ after: 'a/a' }), sorted.slice(sorted.indexOf('a/b')))
    // U+FFFF is three bytes of UTF-8 and sorts before every character above the BMP (four).
    assert.deepEqual(await store.listRooms({ after: 'n\uffff' }), sorted.slice(sorted.indexOf('n\u{1f600}')))
    assert.equal(await store.hasRoom('hasOwnProperty'), false)
    assert.equal((await store.load('valueOf')).exists, false)
  })

  it('deleteRoom removes a room for every writer; a later append starts it again, listed', async (store, other) => {
    await store.write(appends('gone', 1, 2))
    await store.write(compaction('gone', (await store.load('gone')).position, 1, 2))
    await store.write(appends('gone', 3))
    await store.write(appends('kept', 9))
    await other.deleteRoom('gone')
    await other.deleteRoom('never written')
    assert.equal(await store.hasRoom('gone'), false)
    assert.deepEqual(await store.listRooms(), ['kept'])
    assert.equal((await store.load('gone')).exists, false)
    // The writer that wrote it before must list it again, whatever it remembers.
    const { positions } = await store.write(appends('gone', 4))
    for (const reader of [store, other]) {
      assert.equal(await reader.hasRoom('gone'), true)
      assert.deepEqual(await reader.listRooms(), ['gone', 'kept'])
      assert.deepEqual(await read(reader, 'gone'), {
        exists: true,
        snapshot: null,
        updates: [[4]],
        position: positions[0],
        logBytes: 1,
      })
    }
    assert.deepEqual((await read(store, 'kept')).updates, [[9]])
  })

  it('a compaction of a room another writer deleted meanwhile brings it back, appends after it', async (store, other) => {
    await store.write(appends('back', 1, 2, 3))
    const { position } = await store.load('back')
    await other.deleteRoom('back')
    await store.write(compaction('back', position, 1, 2, 3))
    const { positions } = await other.write(appends('back', 4))
    assert.ok(positions[0] > position, 'an append after the snapshot is not covered by it')
    assert.deepEqual(await read(store, 'back'), {
      exists: true,
      snapshot: [1, 2, 3],
      updates: [[4]],
      position: positions[0],
      logBytes: 1,
    })
    assert.deepEqual(await other.listRooms(), ['back'])
  })

  it('rooms another writer creates are listed and loaded by this one', async (store, other) => {
    await other.write(appends('theirs', 1))
    await store.write(appends('mine', 2))
    await other.write(appends('mine', 3))
    assert.deepEqual(await store.listRooms(), ['mine', 'theirs'])
    assert.deepEqual(await markers(store, 'mine'), [2, 3])
    const p = await store.write(appends('theirs', 4))
    assert.equal((await other.load('theirs')).position, p.positions[0])
  })
}
