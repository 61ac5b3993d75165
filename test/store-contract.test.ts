// Every store plait ships passes the one storage contract (persistence/contract.ts): LevelDB in a temp
// directory, one writer per directory, and the in-memory store, with a second writer on the same data.
// Then what only LevelDB must do (read older data directories) and a server on the in-memory store.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Level } from 'level'
import { describeStoreContract } from '../persistence/contract.js'
import { LevelStore } from '../persistence/level/level-store.js'
import { MemoryDatabase, MemoryStore } from '../persistence/memory/memory-store.js'
import type { WriteBatch, WriteResult } from '../persistence/store.js'
import { connectProvider, synced, waitFor } from './helpers/clients.js'
import { removeDir, startServer, tempDir } from './helpers/server.js'

describeStoreContract('LevelStore', async () => {
  const dir = tempDir()
  const store = new LevelStore(dir)
  await store.open()
  return {
    store,
    dispose: async () => {
      await store.close()
      removeDir(dir)
    },
  }
})

describeStoreContract('MemoryStore, two writers on one database', async () => {
  const database = new MemoryDatabase()
  const store = new MemoryStore(database)
  const otherWriter = new MemoryStore(database)
  await store.open()
  await otherWriter.open()
  return { store, otherWriter, dispose: async () => {} }
})

describe('LevelStore and a data directory written before the store assigned positions', () => {
  test('loads it, appends after its last entry under the same keys, and compacts it', async () => {
    const dir = tempDir()
    // The keys and snapshot format as plait has always written them (persistence/level/format.ts).
    const raw = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    const log = (seq: number) => `l\0old\0${seq.toString(16).padStart(12, '0')}`
    await raw.batch([
      { type: 'put', key: 'r\0old', value: new Uint8Array(0) },
      // [format 1][varUint through 3][the document]
      { type: 'put', key: 's\0old', value: new Uint8Array([1, 3, 0xaa, 0xbb]) },
      // Left by an old compaction that could not delete it: inside the snapshot already.
      { type: 'put', key: log(2), value: new Uint8Array([2]) },
      { type: 'put', key: log(4), value: new Uint8Array([4]) },
      { type: 'put', key: log(5), value: new Uint8Array([5]) },
    ])
    await raw.close()
    const store = new LevelStore(dir)
    await store.open()
    try {
      const stored = await store.load('old')
      assert.deepEqual(stored.snapshot && [...stored.snapshot], [0xaa, 0xbb])
      assert.deepEqual(
        stored.updates.map((u) => [...u]),
        [[4], [5]],
      )
      assert.equal(stored.position, 5)
      assert.deepEqual(await store.listRooms(), ['old'])
      const { positions } = await store.write({
        appends: [{ room: 'old', update: new Uint8Array([6]) }],
        compactions: [],
      })
      assert.deepEqual(positions, [6])
      await store.write({
        appends: [],
        compactions: [{ room: 'old', snapshot: new Uint8Array([0xcc]), through: 6 }],
      })
    } finally {
      await store.close()
    }
    const reopened = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    try {
      const keys = await reopened.keys().all()
      assert.deepEqual(
        keys,
        ['r\0old', 's\0old'],
        'the compaction removed every covered entry, the old one too',
      )
      assert.deepEqual([...((await reopened.get('s\0old')) ?? [])], [1, 6, 0xcc])
    } finally {
      await reopened.close()
      removeDir(dir)
    }
  })

  test('its rooms describe as unknown until written; then their bytes count every stored entry', async () => {
    const dir = tempDir()
    const raw = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    const log = (room: string, seq: number) => `l\0${room}\0${seq.toString(16).padStart(12, '0')}`
    for (const room of ['loaded', 'cold']) {
      await raw.batch([
        { type: 'put', key: `r\0${room}`, value: new Uint8Array(0) },
        { type: 'put', key: `s\0${room}`, value: new Uint8Array([1, 3, 0xaa, 0xbb]) },
        { type: 'put', key: log(room, 2), value: new Uint8Array([2]) },
        { type: 'put', key: log(room, 4), value: new Uint8Array([4, 4]) },
      ])
    }
    await raw.close()
    const store = new LevelStore(dir)
    await store.open()
    try {
      const unknown = { bytes: null, lastChange: null }
      assert.deepEqual(
        Object.fromEntries(await store.describeRooms(['loaded', 'cold'])),
        { loaded: unknown, cold: unknown },
        'an empty index value: written by an older plait',
      )
      await store.load('loaded')
      const from = Date.now()
      for (const room of ['loaded', 'cold'])
        await store.write({ appends: [{ room, update: new Uint8Array([6]) }], compactions: [] })
      const infos = await store.describeRooms(['loaded', 'cold'])
      for (const room of ['loaded', 'cold']) {
        const info = infos.get(room)
        assert.equal(info?.bytes, 4 + 1 + 2 + 1, `${room}: the snapshot, the stale entry, the log`)
        assert.ok((info?.lastChange ?? 0) >= from)
      }
      await store.write({
        appends: [],
        compactions: [{ room: 'loaded', snapshot: new Uint8Array([0xcc]), through: 5 }],
      })
      const compacted = (await store.describeRooms(['loaded'])).get('loaded')
      assert.deepEqual(
        compacted,
        { bytes: 3, lastChange: infos.get('loaded')?.lastChange },
        'a compaction is no change',
      )
    } finally {
      await store.close()
      removeDir(dir)
    }
  })
})

describe('a server on the in-memory store', () => {
  test('edits are compacted and unloaded into it, and a second server on the same database loads them', async () => {
    const database = new MemoryDatabase()
    const first = await startServer({
      store: new MemoryStore(database),
      tuning: { roomIdleMs: 100, compactEntries: 5 },
    })
    const writer = connectProvider(first.url, 'notes')
    try {
      await synced(writer)
      for (let i = 0; i < 20; i++) {
        writer.text.insert(writer.text.length, `${i},`)
        // Separate turns, so the server logs separate entries.
        await new Promise((r) => setTimeout(r, 1))
      }
      await waitFor(() => first.server.metrics.compactions >= 1, 'a compaction')
      writer.destroy()
      await waitFor(() => first.server.registry.size === 0, 'the room to be unloaded')
    } finally {
      writer.destroy()
      await first.stop()
    }
    const expected = Array.from({ length: 20 }, (_, i) => `${i},`).join('')
    const stored = database.load('notes')
    assert.equal(stored.updates.length, 0, 'the unload compacted the whole log')
    const second = await startServer({ store: new MemoryStore(database) })
    const reader = connectProvider(second.url, 'notes')
    try {
      await synced(reader)
      assert.equal(reader.text.toString(), expected)
    } finally {
      reader.destroy()
      await second.stop()
      removeDir(first.dataDir)
      removeDir(second.dataDir)
    }
  })

  test('a compaction while an edit is being written keeps it in the log, and the unload compacts it too', async () => {
    const store = new GatedMemoryStore()
    const s = await startServer({ store, tuning: { roomIdleMs: 100, compactEntries: 3 } })
    const writer = connectProvider(s.url, 'busy')
    const serverText = () => s.server.registry.get('busy')?.doc.getText('t').toString()
    try {
      await synced(writer)
      for (const edit of ['a', 'b']) {
        writer.text.insert(writer.text.length, edit)
        await waitFor(() => s.server.metrics.updatesPersisted === writer.text.length, `${edit} to be written`)
      }
      store.gated = true
      writer.text.insert(2, 'c')
      await waitFor(() => store.held.length === 1, 'the write of c to wait')
      writer.text.insert(3, 'd')
      await waitFor(() => serverText() === 'abcd', 'd to be applied while c is being written')
      store.openGate()
      await waitFor(() => s.server.metrics.compactions === 1, 'the compaction c started')
      const stored = store.database.load('busy')
      assert.deepEqual(
        [stored.updates.length, stored.snapshot !== null],
        [1, true],
        'd is in the snapshot and still in the log',
      )
      writer.destroy()
      await waitFor(() => s.server.registry.size === 0, 'the room to be unloaded')
      assert.equal(store.database.load('busy').updates.length, 0, 'the unload compacted d too')
    } finally {
      writer.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})

/** A MemoryStore whose writes wait while `gated`. */
class GatedMemoryStore extends MemoryStore {
  gated = false
  readonly held: (() => void)[] = []
  override async write(batch: WriteBatch): Promise<WriteResult> {
    if (this.gated) await new Promise<void>((resolve) => this.held.push(resolve))
    return super.write(batch)
  }
  openGate(): void {
    this.gated = false
    for (const release of this.held.splice(0)) release()
  }
}
