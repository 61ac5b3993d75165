// The cases every DocumentStore must pass before it is trusted with documents. A backend proves itself
// with one call in a test file: describeStoreContract('PostgresStore', async () => ({ store, … })).
// Updates are opaque bytes here; a "document" is the set of one-byte markers in a room's snapshot and log.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { appends, bytes, compaction, markers, read } from './contract-helpers.js'
import { roomInfoCases } from './contract-room-info.js'
import { roomListCases } from './contract-rooms.js'
import { versionCases } from './contract-versions.js'
import type { DocumentStore } from './store.js'

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

    roomListCases(it)
    roomInfoCases(it)
    versionCases(it)
  })
}
