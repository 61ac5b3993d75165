// The cases every DocumentStore must pass before it is trusted with documents. A backend proves itself
// with one call in a test file: describeStoreContract('PostgresStore', async () => ({ store, … })).
// Updates are opaque bytes here; a "document" is the set of one-byte markers in a room's snapshot and log.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { roomInfoCases } from './contract-room-info.js'
import { versionCases } from './contract-versions.js'
import { compareRoomNames, type DocumentStore, type WriteBatch } from './store.js'

export interface ContractSubject {
  /** An open store on an empty database. */
  store: DocumentStore
  /**
   * A second open writer on the same database, as a second node would be. Leave it out for a backend
   * with one writer per database by construction (LevelDB's LOCK file): the several-writer cases then
   * interleave their operations through `store`.
   */
  otherWriter?: DocumentStore
  /** Closes what was opened and removes what was written. */
  dispose(): Promise<void>
}

const bytes = (...markers: number[]) => new Uint8Array(markers)
const appends = (room: string, ...markers: number[]): WriteBatch => ({
  appends: markers.map((marker) => ({ room, update: bytes(marker) })),
  compactions: [],
})
const compaction = (room: string, through: number, ...markers: number[]): WriteBatch => ({
  appends: [],
  compactions: [{ room, snapshot: bytes(...markers), through }],
})

/** Every marker in a room: the snapshot's bytes and the log's, sorted (a CRDT applies each once). */
async function markers(store: DocumentStore, room: string): Promise<number[]> {
  const { snapshot, updates } = await store.load(room)
  return [...new Set([...(snapshot ?? []), ...updates.flatMap((u) => [...u])])].sort((a, b) => a - b)
}

/** What load returned, with plain arrays for bytes (a store may return Buffers). */
async function read(store: DocumentStore, room: string) {
  const { snapshot, updates, ...rest } = await store.load(room)
  return { ...rest, snapshot: snapshot && [...snapshot], updates: updates.map((update) => [...update]) }
}

const utf8Order = (names: string[]) =>
  [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))

export function describeStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  /** Runs a case on a fresh database; `other` is the second writer, or the same store. */
  const it = (title: string, body: (store: DocumentStore, other: DocumentStore) => Promise<void>) =>
    test(title, async () => {
      const subject = await open()
      try {
        await body(subject.store, subject.otherWriter ?? subject.store)
      } finally {
        await subject.dispose()
      }
    })

  describe(`the storage contract: ${name}`, () => {
    it('a room never written loads empty, at position 0, and is not listed', async (store) => {
      const unknown = { exists: false, snapshot: null, updates: [], position: 0, logBytes: 0 }
      assert.deepEqual(await read(store, 'nobody'), unknown)
      assert.equal(await store.hasRoom('nobody'), false)
      assert.deepEqual(await store.listRooms(), [])
      assert.deepEqual(await store.write({ appends: [], compactions: [] }), { positions: [] })
    })

    it('appends load in order, at positions that increase across batches', async (store) => {
      const first = await store.write(appends('a', 1, 2, 3))
      const second = await store.write(appends('a', 4))
      const positions = [...first.positions, ...second.positions]
      assert.equal(positions.length, 4)
      for (let i = 1; i < positions.length; i++) assert.ok(positions[i] > positions[i - 1], `${positions}`)
      assert.ok(positions[0] > 0)
      const stored = await read(store, 'a')
      assert.deepEqual(stored.updates, [[1], [2], [3], [4]])
      assert.equal(stored.position, positions[3], 'load names the position of the last entry')
      assert.equal(stored.logBytes, 4)
      assert.equal(stored.exists, true)
    })

    it('rooms written in one batch each get their own increasing positions, and keep a copy of the bytes', async (store) => {
      const update = bytes(7)
      const { positions } = await store.write({
        appends: [
          { room: 'a', update },
          { room: 'b', update: bytes(8) },
          { room: 'a', update: bytes(9) },
        ],
        compactions: [],
      })
      update[0] = 0
      assert.ok(positions[2] > positions[0])
      assert.deepEqual((await read(store, 'a')).updates, [[7], [9]])
      assert.deepEqual((await read(store, 'b')).updates, [[8]])
      assert.equal((await store.load('b')).position, positions[1])
    })

    it('a load while a batch is written sees all of that batch or none of it', async (store) => {
      const before = Array.from({ length: 50 }, (_, i) => i)
      const after = [...before, ...before.map((i) => 100 + i)]
      await store.write(appends('a', ...before))
      const { position } = await store.load('a')
      const writing = store.write({
        appends: before.map((i) => ({ room: 'a', update: bytes(100 + i) })),
        compactions: [{ room: 'a', snapshot: bytes(...before), through: position }],
      })
      let written = false
      writing.then(
        () => {
          written = true
        },
        () => {},
      )
      const seen = [markers(store, 'a')]
      while (!written && seen.length < 1000) {
        await new Promise((resolve) => setImmediate(resolve))
        seen.push(markers(store, 'a'))
      }
      assert.equal((await writing).positions.length, 50)
      for (const saw of await Promise.all(seen)) {
        assert.ok(
          [before, after].some((m) => m.join() === saw.join()),
          `a load saw ${saw.join()}`,
        )
      }
      assert.deepEqual(await markers(store, 'a'), after)
    })

    it('a compaction replaces the entries up to its position and keeps the later ones', async (store) => {
      await store.write(appends('a', 1, 2))
      const { position } = await store.load('a')
      const later = await store.write(appends('a', 3))
      await store.write(compaction('a', position, 1, 2))
      const stored = await read(store, 'a')
      assert.deepEqual(stored.snapshot, [1, 2])
      assert.deepEqual(stored.updates, [[3]])
      assert.equal(stored.position, later.positions[0])
      assert.equal(stored.logBytes, 1)
      const next = await store.write(appends('a', 4))
      assert.ok(next.positions[0] > later.positions[0])
    })

    it('a compaction keeps what another writer appended after the snapshot was encoded', async (store, other) => {
      await store.write(appends('a', 1))
      const { position } = await store.load('a')
      const snapshot = bytes(1)
      const theirs = await other.write(appends('a', 2))
      // In one batch with this writer's own next append, as the server writes them.
      const mine = await store.write({
        appends: [{ room: 'a', update: bytes(3) }],
        compactions: [{ room: 'a', snapshot, through: position }],
      })
      assert.ok(mine.positions[0] > theirs.positions[0])
      for (const reader of [store, other]) {
        const stored = await read(reader, 'a')
        assert.deepEqual(stored.snapshot, [1])
        assert.deepEqual(stored.updates, [[2], [3]])
        assert.equal(stored.position, mine.positions[0])
      }
    })

    it('a compaction already covered changes nothing; the newest snapshot stays', async (store, other) => {
      await store.write(appends('a', 1, 2))
      const early = (await store.load('a')).position
      await store.write(appends('a', 3))
      const late = (await store.load('a')).position
      await store.write(compaction('a', early, 1, 2))
      await store.write(compaction('a', early, 1, 2))
      assert.deepEqual(await read(store, 'a'), {
        exists: true,
        snapshot: [1, 2],
        updates: [[3]],
        position: late,
        logBytes: 1,
      })
      await other.write(compaction('a', late, 1, 2, 3))
      await store.write(compaction('a', early, 1, 2))
      assert.deepEqual(await read(store, 'a'), {
        exists: true,
        snapshot: [1, 2, 3],
        updates: [],
        position: late,
        logBytes: 0,
      })
    })

    it('a room that was only compacted exists, and appends follow its snapshot', async (store) => {
      await store.write(compaction('only', 0, 5))
      assert.equal(await store.hasRoom('only'), true)
      assert.deepEqual(await store.listRooms(), ['only'])
      const stored = await read(store, 'only')
      assert.equal(stored.exists, true)
      assert.deepEqual(stored.snapshot, [5])
      const { positions } = await store.write(appends('only', 6))
      assert.deepEqual(await markers(store, 'only'), [5, 6])
      assert.equal((await store.load('only')).position, positions[0])
    })

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
      assert.deepEqual(
        await store.listRooms({ after: 'n\uffff' }),
        sorted.slice(sorted.indexOf('n\u{1f600}')),
      )
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

    it('checkWritable passes on an open store; closed and reopened, the data is still there', async (store) => {
      await store.checkWritable()
      await store.write(appends('a', 1))
      await store.close()
      assert.equal(store.isOpen, false)
      await assert.rejects(store.write(appends('a', 2)))
      await store.open()
      assert.equal(store.isOpen, true)
      await store.checkWritable()
      assert.deepEqual((await read(store, 'a')).updates, [[1]])
      const { positions } = await store.write(appends('a', 3))
      assert.deepEqual(await read(store, 'a'), {
        exists: true,
        snapshot: null,
        updates: [[1], [3]],
        position: positions[0],
        logBytes: 2,
      })
    })

    roomInfoCases(it)
    versionCases(it)
  })
}
