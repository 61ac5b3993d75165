import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as Y from 'yjs'
import { LevelStore } from '../persistence/level/level-store.js'

import { encodeAwarenessStates } from '../server/documents/awareness-state.js'
import { encodeAwareness, encodeSyncStep2, encodeUpdate } from '../server/protocol/messages.js'
import {
  connectProvider,
  metric,
  RawClient,
  roomState,
  synced,
  type TestProvider,
  updateOf,
  waitFor,
  waitForAsync,
} from './helpers/clients.js'
import { GatedStore } from './helpers/gated-store.js'
import { freePort, PlaitProcess } from './helpers/plait-process.js'
import { removeDir, runPlait, startServer, tempDir } from './helpers/server.js'

/** Reads a room straight from the data directory (the server must be stopped). */
async function readStored(dataDir: string, room: string) {
  const store = new LevelStore(dataDir)
  await store.open()
  try {
    const stored = await store.load(room)
    const doc = new Y.Doc()
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
    for (const u of stored.updates) Y.applyUpdate(doc, u)
    return { stored, text: doc.getText('t').toString() }
  } finally {
    await store.close()
  }
}

describe('persistence', () => {
  test("an update reaches other clients only once it is on disk, even in a late joiner's first sync", async () => {
    const dataDir = tempDir()
    const store = new GatedStore(dataDir)
    const s = await startServer({ store }, dataDir)
    const writer = connectProvider(s.url, 'gate')
    const observer = connectProvider(s.url, 'gate')
    let late: TestProvider | null = null
    try {
      await synced(writer, observer)
      // Counts writes that reached the gate: the update is applied and its write is under way.
      let writesAtGate = 0
      const write = store.write.bind(store)
      store.write = (batch) => {
        writesAtGate++
        return write(batch)
      }
      store.gated = true
      writer.text.insert(0, 'not yet durable')
      await waitFor(() => writesAtGate > 0, 'the write to reach the gate')
      // Markers, relayed at once and so after anything sent before them on the same socket: the late
      // joiner's provider sends its step 1 and then its awareness, which the observer receives after any
      // premature broadcast; then the observer's awareness reaches the joiner after any answer to its step 1.
      late = connectProvider(s.url, 'gate', { connect: false })
      const joiner = late
      // An empty awareness state is not relayed; a field makes the joiner's first awareness a marker.
      joiner.provider.awareness.setLocalStateField('joined', true)
      joiner.provider.connect()
      await waitFor(
        () => observer.provider.awareness.getStates().get(joiner.doc.clientID)?.joined === true,
        "the joiner's awareness at the observer",
      )
      assert.equal(observer.text.toString(), '', 'nobody sees an update before its write completes')
      observer.provider.awareness.setLocalStateField('marker', 1)
      await waitFor(
        () => joiner.provider.awareness.getStates().get(observer.doc.clientID)?.marker === 1,
        "the observer's marker at the joiner",
      )
      assert.equal(late.text.toString(), '', 'a late joiner is not sent undurable state')
      assert.equal(late.provider.synced, false)
      store.openGate()
      await waitFor(() => observer.text.toString() === 'not yet durable', 'the observer to get the update')
      await synced(late)
      assert.equal(late.text.toString(), 'not yet durable')
    } finally {
      for (const c of [writer, observer, late]) c?.destroy()
      await s.stop()
      removeDir(dataDir)
    }
  })

  test('documents survive a graceful restart (SIGTERM closes sockets with 1012 and exits 0)', async () => {
    const dir = tempDir()
    const first = new PlaitProcess(await freePort(), [], dir)
    await first.start()
    const client = connectProvider(first.wsUrl, 'restart')
    try {
      await synced(client)
      const closeCodes: number[] = []
      client.provider.on('connection-close', (event) => {
        if (event) closeCodes.push(event.code)
      })
      client.text.insert(0, 'kept across restarts')
      await waitForAsync(
        async () =>
          (await roomState(first.url, 'restart'))?.getText('t').toString() === 'kept across restarts',
        'the edit to reach the server',
      )
      const stopped = Date.now()
      const exit = await first.stop()
      assert.equal(exit?.code, 0, `exit code 0 after SIGTERM; output:\n${first.output}`)
      assert.ok(Date.now() - stopped < 5000, 'stopped within a few seconds')
      await waitFor(() => closeCodes.length > 0, 'the provider to see the close')
      assert.equal(closeCodes[0], 1012)
      client.provider.disconnect()
      const { text } = await readStored(dir, 'restart')
      assert.equal(text, 'kept across restarts')
      const second = new PlaitProcess(first.port, [], dir)
      await second.start()
      const reader = connectProvider(second.wsUrl, 'restart')
      await synced(reader)
      assert.equal(reader.text.toString(), 'kept across restarts')
      reader.destroy()
      await second.stop()
    } finally {
      client.destroy()
      await first.crash()
      removeDir(dir)
    }
  })

  test('with a write window, edits to sparse rooms share one disk write and are broadcast only after it', async () => {
    const dataDir = tempDir()
    const store = new LevelStore(dataDir)
    const s = await startServer({ store, tuning: { writeWindowMs: 300 } }, dataDir)
    const clients = ['left', 'right'].flatMap((room) => [
      connectProvider(s.url, room),
      connectProvider(s.url, room),
    ])
    const [leftWriter, leftObserver, rightWriter, rightObserver] = clients
    try {
      await synced(...clients)
      const batches: { rooms: string[]; at: number }[] = []
      const write = store.write.bind(store)
      store.write = (batch) => {
        batches.push({ rooms: [...new Set(batch.appends.map((a) => a.room))].sort(), at: performance.now() })
        return write(batch)
      }
      const typed = performance.now()
      leftWriter.text.insert(0, 'left edit')
      rightWriter.text.insert(0, 'right edit')
      await waitFor(
        () => leftObserver.text.toString() === 'left edit' && rightObserver.text.toString() === 'right edit',
        'both observers to get their edit',
      )
      assert.deepEqual(
        batches.map((b) => b.rooms),
        [['left', 'right']],
        'both rooms went to disk in one batch',
      )
      assert.ok(batches[0].at - typed >= 250, 'the batch waited for the window')
    } finally {
      for (const c of clients) c.destroy()
      await s.stop()
    }
    const [left, right] = [await readStored(dataDir, 'left'), await readStored(dataDir, 'right')]
    assert.equal(left.text, 'left edit')
    assert.equal(right.text, 'right edit')
    removeDir(dataDir)
  })

  test('with --sync-writes every batch is fsynced and the document survives a kill -9', async () => {
    const dir = tempDir()
    const server = new PlaitProcess(await freePort(), ['--sync-writes'], dir)
    await server.start()
    const writer = connectProvider(server.wsUrl, 'fsync')
    const observer = connectProvider(server.wsUrl, 'fsync')
    try {
      await synced(writer, observer)
      writer.text.insert(0, 'synced to disk')
      await waitFor(() => observer.text.toString() === 'synced to disk', 'the observer to see it')
      await server.crash()
      writer.destroy()
      observer.destroy()
      assert.equal((await readStored(dir, 'fsync')).text, 'synced to disk')
    } finally {
      writer.destroy()
      observer.destroy()
      await server.crash()
      removeDir(dir)
    }
  })

  test('kill -9 at any moment loses no update that another client had received', async () => {
    for (let attempt = 0; attempt < 4; attempt++) {
      const dir = tempDir()
      const server = new PlaitProcess(await freePort(), [], dir)
      await server.start()
      const writers = [connectProvider(server.wsUrl, 'crash'), connectProvider(server.wsUrl, 'crash')]
      const observer = connectProvider(server.wsUrl, 'crash')
      const timers: NodeJS.Timeout[] = []
      try {
        await synced(...writers, observer)
        let seq = 0
        writers.forEach((w, i) => {
          timers.push(setInterval(() => w.text.insert(w.text.length, `[${i}.${seq++}]`), 1))
        })
        // Kill somewhere in the stream, at a different point each attempt.
        await new Promise((r) => setTimeout(r, 250 + attempt * 170))
        await server.crash()
        for (const t of timers) clearInterval(t)
        const seen = observer.text.toString().match(/\[\d\.\d+\]/g) ?? []
        for (const c of [...writers, observer]) c.destroy()
        assert.ok(seen.length > 10, `the observer saw updates before the kill (${seen.length})`)
        const { text } = await readStored(dir, 'crash')
        const stored = new Set(text.match(/\[\d\.\d+\]/g) ?? [])
        const missing = seen.filter((m) => !stored.has(m))
        assert.deepEqual(
          missing,
          [],
          `attempt ${attempt}: ${missing.length} of ${seen.length} observed updates missing`,
        )
      } finally {
        for (const t of timers) clearInterval(t)
        await server.crash()
        removeDir(dir)
      }
    }
  })

  test('clients connecting while a room loads all get the full document in their first sync', async () => {
    const dataDir = tempDir()
    let s = await startServer({}, dataDir)
    const writer = connectProvider(s.url, 'race')
    await synced(writer)
    const content = 'x'.repeat(2000)
    for (let i = 0; i < 200; i++) writer.text.insert(writer.text.length, content.slice(i * 10, i * 10 + 10))
    await waitFor(
      () => s.server.registry.get('race')?.doc.getText('t').length === 2000,
      'all edits on the server',
    )
    writer.destroy()
    await s.stop()
    s = await startServer({}, dataDir)
    const textsAtFirstSync: string[] = []
    const clients: TestProvider[] = []
    for (let i = 0; i < 20; i++) {
      const c = connectProvider(s.url, 'race')
      c.provider.once('sync', () => textsAtFirstSync.push(c.text.toString()))
      clients.push(c)
    }
    try {
      await synced(...clients)
      assert.equal(textsAtFirstSync.length, 20)
      for (const text of textsAtFirstSync) assert.equal(text.length, 2000, 'no client saw a half-loaded room')
    } finally {
      for (const c of clients) c.destroy()
      await s.stop()
      removeDir(dataDir)
    }
  })

  test('an idle room is unloaded from memory, compacted, and loads again with the same content', async () => {
    const s = await startServer({ tuning: { roomIdleMs: 100 } })
    let expected = ''
    try {
      const a = connectProvider(s.url, 'idle')
      await synced(a)
      for (let i = 0; i < 30; i++) a.text.insert(a.text.length, `${i},`)
      a.text.delete(0, 10)
      expected = a.text.toString()
      await waitFor(() => s.server.registry.get('idle')?.size === 1, 'the room to hold the client')
      a.destroy()
      await waitFor(() => s.server.registry.get('idle') === undefined, 'the room to be unloaded')
      const b = connectProvider(s.url, 'idle')
      await synced(b)
      assert.equal(b.text.toString(), expected)
      b.destroy()
      await waitFor(() => s.server.registry.size === 0, 'the room to be unloaded again')
    } finally {
      await s.stop()
    }
    const { stored, text } = await readStored(s.dataDir, 'idle')
    assert.ok(stored.snapshot !== null, 'unloading wrote a snapshot')
    assert.equal(stored.updates.length, 0, 'and replaced the log')
    assert.equal(text, expected)
    removeDir(s.dataDir)
  })

  test("after a room reloads, every new client's first sync has every edit made since the reload", async () => {
    // A reloaded room answers a new client's first sync with its stored snapshot while nothing has changed;
    // one edit later, that snapshot is out of date and must not be sent again.
    const s = await startServer({ tuning: { roomIdleMs: 100 } })
    const clients: TestProvider[] = []
    const connect = () => {
      const client = connectProvider(s.url, 'reloaded')
      clients.push(client)
      return client
    }
    try {
      const a = connect()
      await synced(a)
      a.text.insert(0, 'stored')
      await waitFor(() => s.server.registry.get('reloaded')?.size === 1, 'the room to hold the client')
      a.destroy()
      await waitFor(() => s.server.registry.get('reloaded') === undefined, 'the room to be unloaded')
      const b = connect()
      await synced(b)
      assert.equal(b.text.toString(), 'stored', 'the first client after the reload gets the stored text')
      const c = connect()
      await synced(c)
      b.text.insert(6, ' and edited')
      await waitFor(() => c.text.toString() === 'stored and edited', 'the edit to reach a connected client')
      const d = connect()
      await synced(d)
      assert.equal(d.text.toString(), 'stored and edited', 'a later client gets the edit in its first sync')
    } finally {
      for (const client of clients) client.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test("awareness reaches others at once, but echoes to its sender only after the sender's edits are durable", async () => {
    const dataDir = tempDir()
    const store = new GatedStore(dataDir)
    const s = await startServer({ store }, dataDir)
    const writer = new RawClient(`${s.url}/receipt`)
    const observer = connectProvider(s.url, 'receipt')
    try {
      await writer.opened
      await synced(observer)
      store.gated = true
      const doc = new Y.Doc()
      doc.getText('t').insert(0, 'typed')
      writer.send(encodeUpdate(Y.encodeStateAsUpdate(doc)))
      writer.send(
        encodeAwareness(encodeAwarenessStates([{ clientID: 31337, clock: 1, state: '{"user":"w"}' }])),
      )
      await waitFor(
        () => observer.provider.awareness.getStates().has(31337),
        'the observer to see the awareness',
      )
      // A marker on the writer's socket: the pong follows anything the server sent it before, including
      // an echo written when the awareness was relayed to the observer.
      const pong = new Promise((resolve) => writer.ws.once('pong', resolve))
      writer.ws.ping()
      await pong
      assert.equal(writer.framesOf(1).length, 0, 'no echo while the edit is not on disk')
      store.openGate()
      await waitFor(() => writer.framesOf(1).length === 1, 'the echo once the edit is durable')
    } finally {
      writer.close()
      observer.destroy()
      await s.stop()
      removeDir(dataDir)
    }
  })

  test('a failed write closes the room with 1011; clients reconnect, resend, and nothing is lost', async () => {
    const dataDir = tempDir()
    const store = new GatedStore(dataDir)
    const s = await startServer({ store }, dataDir)
    const writer = connectProvider(s.url, 'disk-full')
    const observer = connectProvider(s.url, 'disk-full')
    const closes: number[] = []
    writer.provider.on('connection-close', (event) => {
      if (event) closes.push(event.code)
    })
    try {
      await synced(writer, observer)
      store.failNextWrite = true
      writer.text.insert(0, 'must survive')
      await waitFor(() => closes.includes(1011), 'the writer to be closed with 1011')
      assert.equal(observer.text.toString(), '', 'the unwritten edit reached no one')
      // The provider reconnects by itself and sends what the server lacks.
      await waitFor(
        () => observer.text.toString() === 'must survive',
        'the edit to arrive after the reconnect',
      )
      assert.ok(s.logs.lines.some((l) => l.room === 'disk-full' && String(l.msg).includes('write failed')))
    } finally {
      writer.destroy()
      observer.destroy()
      await s.stop()
    }
    const { text } = await readStored(dataDir, 'disk-full')
    assert.equal(text, 'must survive')
    removeDir(dataDir)
  })

  test('a /state request waiting for a write that fails is refused, never served the unwritten edit', async () => {
    const dataDir = tempDir()
    const store = new GatedStore(dataDir)
    const s = await startServer({ store }, dataDir)
    const writer = connectProvider(s.url, 'export-fails')
    try {
      await synced(writer)
      store.gated = true
      writer.text.insert(0, 'never written')
      await waitFor(() => s.server.registry.get('export-fails')?.exists === true, 'the edit to be applied')
      // The first API request loads the HTTP adapter; after it, a request reaches the room in the turn
      // the server receives it.
      await (await fetch(`${s.http}/api/rooms/export-fails`)).text()
      const received = new Promise((resolve) =>
        s.server.httpServer.once('request', () => setImmediate(resolve)),
      )
      const pending = fetch(`${s.http}/api/rooms/export-fails/state`)
      await received
      store.failNextWrite = true
      store.openGate()
      const response = await pending
      assert.notEqual(response.status, 200)
      assert.doesNotMatch(await response.text(), /never written/)
    } finally {
      writer.destroy()
      await s.stop().catch(() => {})
      removeDir(dataDir)
    }
  })

  test('a room whose only client left while it was loading is still unloaded', async () => {
    const dataDir = tempDir()
    const store = new GatedStore(dataDir)
    const s = await startServer({ store, tuning: { roomIdleMs: 50 } }, dataDir)
    try {
      store.gated = true
      const raw = new RawClient(`${s.url}/abandoned`)
      await raw.opened
      await waitFor(() => s.server.registry.get('abandoned') !== undefined, 'the load to start')
      raw.close()
      await waitFor(() => s.server.gateway.openSockets === 0, 'the socket to close')
      store.openGate()
      await waitFor(() => s.server.registry.size === 0, 'the room to be unloaded', 5000)
    } finally {
      await s.stop()
      removeDir(dataDir)
    }
  })

  test('what is stored equals what was applied: held-back updates, step 2 and plain edits', async () => {
    // The log stores the client's own bytes for plain edits and Yjs's encoding of the change otherwise;
    // either way the restarted document must equal the one that was live.
    const s = await startServer()
    const writer = new Y.Doc()
    const text = writer.getText('t')
    const raw = new RawClient(`${s.url}/stored`)
    let live = ''
    try {
      await raw.opened
      const serverText = () => s.server.registry.get('stored')?.doc.getText('t').toString()
      const first = updateOf(writer, () => text.insert(0, 'first '))
      const second = updateOf(writer, () => text.insert(text.length, 'second '))
      // The second depends on the first: the server holds it back, then integrates both together.
      const heldBefore = await metric(s.http, 'plait_updates_held_back_total')
      raw.send(encodeUpdate(second))
      await waitForAsync(
        async () => (await metric(s.http, 'plait_updates_held_back_total')) > heldBefore,
        'the second to be held back',
      )
      raw.send(encodeUpdate(first))
      await waitFor(() => serverText() === 'first second ', 'both to be integrated')
      const third = updateOf(writer, () => text.insert(text.length, 'third'))
      raw.send(encodeUpdate(third))
      await waitFor(() => serverText() === 'first second third', 'a plain edit')
      // A reconnecting client's step 2 (everything it has, including what the server already has).
      const offline = new Y.Doc()
      Y.applyUpdate(offline, Y.encodeStateAsUpdate(writer))
      offline.getText('t').delete(0, 6)
      Y.applyUpdate(writer, Y.encodeStateAsUpdate(offline))
      raw.send(encodeSyncStep2(Y.encodeStateAsUpdate(offline)))
      live = text.toString()
      assert.equal(live, 'second third')
      await waitFor(() => serverText() === live, 'the server to apply the step 2')
      raw.close()
      // Read the log as a restart after a crash would (a graceful stop compacts it into a snapshot).
      await s.server.registry.get('stored')?.exportState()
      const stored = await s.server.store.load('stored')
      assert.equal(stored.snapshot, null, 'no compaction yet: the log alone holds the document')
      const reloaded = new Y.Doc()
      for (const update of stored.updates) Y.applyUpdate(reloaded, update)
      assert.equal(reloaded.store.pendingStructs, null, 'every stored update has its dependencies')
      assert.equal(reloaded.getText('t').toString(), live)
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('compaction keeps the content identical and the log short', async () => {
    const s = await startServer({ tuning: { compactEntries: 25 } })
    const reference = new Y.Doc()
    let expected = ''
    try {
      const a = connectProvider(s.url, 'compact')
      await synced(a)
      a.doc.on('update', (u: Uint8Array) => Y.applyUpdate(reference, u))
      for (let i = 0; i < 400; i++) {
        if (i % 7 === 3 && a.text.length > 5) a.text.delete(2, 3)
        else a.text.insert(Math.floor(a.text.length / 2), `(${i})`)
        // Separate turns, so the server logs separate entries (it merges the edits of one turn).
        await new Promise((r) => setTimeout(r, 1))
      }
      expected = a.text.toString()
      assert.equal(reference.getText('t').toString(), expected)
      await waitFor(() => s.server.metrics.compactions >= 5, 'several compactions')
      const late = connectProvider(s.url, 'compact')
      await synced(late)
      assert.equal(late.text.toString(), expected)
      late.destroy()
      a.destroy()
    } finally {
      await s.stop()
    }
    const { stored, text } = await readStored(s.dataDir, 'compact')
    assert.equal(text, expected)
    assert.ok(stored.updates.length < 25, `log holds ${stored.updates.length} entries after compaction`)
    removeDir(s.dataDir)
  })

  test('an update waiting for a missing dependency is never stored, sent or able to break the room', async () => {
    const dataDir = tempDir()
    let s = await startServer({}, dataDir)
    const raw = new RawClient(`${s.url}/waiting`)
    const writer = connectProvider(s.url, 'waiting')
    const serverRoom = () => s.server.registry.get('waiting')
    try {
      await raw.opened
      await synced(writer)
      writer.text.insert(0, 'seen by all')
      await waitFor(() => serverRoom()?.doc.getText('t').toString() === 'seen by all', 'the edit')
      // An edit whose predecessor is never sent: the server holds it back.
      const other = new Y.Doc()
      updateOf(other, () => other.getText('t').insert(0, 'never sent '))
      raw.send(encodeUpdate(updateOf(other, () => other.getText('t').insert(0, 'orphan '))))
      await waitFor(() => s.server.metrics.updatesHeldBack > 0, 'the orphan to be held back')
      const late = connectProvider(s.url, 'waiting')
      await synced(late)
      assert.equal(late.text.toString(), 'seen by all')
      assert.equal(late.doc.store.pendingStructs, null, 'a first sync carries nothing the server holds back')
      late.destroy()
    } finally {
      raw.close()
      writer.destroy()
      // A graceful stop compacts the room while the orphan is still held back.
      await s.stop()
    }
    const { stored, text } = await readStored(dataDir, 'waiting')
    assert.ok(stored.snapshot !== null, 'the stop compacted the room')
    const fromSnapshot = new Y.Doc()
    Y.applyUpdate(fromSnapshot, stored.snapshot)
    assert.equal(fromSnapshot.store.pendingStructs, null, 'the snapshot holds nothing back')
    assert.equal(text, 'seen by all')
    s = await startServer({}, dataDir)
    const reader = connectProvider(s.url, 'waiting')
    try {
      await synced(reader)
      assert.equal(reader.text.toString(), 'seen by all')
    } finally {
      reader.destroy()
      await s.stop()
      removeDir(dataDir)
    }
  })

  test('a stored snapshot holding updates without their dependencies loads what everyone saw', async () => {
    // What plait wrote before compaction set held-back updates aside: its snapshots could carry them.
    const dataDir = tempDir()
    const doc = new Y.Doc()
    const seen = updateOf(doc, () => doc.getText('t').insert(0, 'seen by all'))
    const other = new Y.Doc()
    updateOf(other, () => other.getText('t').insert(0, 'never sent '))
    const orphan = updateOf(other, () => other.getText('t').insert(0, 'orphan '))
    const store = new LevelStore(dataDir)
    await store.open()
    await store.write({
      appends: [],
      compactions: [{ room: 'old', snapshot: Y.mergeUpdates([seen, orphan]), through: 0 }],
    })
    await store.close()
    const s = await startServer({}, dataDir)
    const a = connectProvider(s.url, 'old')
    try {
      await synced(a)
      assert.equal(a.text.toString(), 'seen by all')
      assert.equal(a.doc.store.pendingStructs, null, 'the first sync carries only what everyone saw')
      assert.ok(
        s.logs.lines.some((l) => l.room === 'old' && String(l.msg).includes('dependencies never arrived')),
        'the dropped updates are logged with the room name',
      )
      a.text.insert(a.text.length, ', and edited')
      const b = connectProvider(s.url, 'old')
      await synced(b)
      await waitFor(() => b.text.toString() === 'seen by all, and edited', 'the room to keep syncing')
      b.destroy()
    } finally {
      a.destroy()
      await s.stop()
      removeDir(dataDir)
    }
  })

  test('stored data that fails to load gives 1011 and is never overwritten', async () => {
    const dataDir = tempDir()
    let s = await startServer({}, dataDir)
    const a = connectProvider(s.url, 'broken')
    await synced(a)
    a.text.insert(0, 'precious')
    await waitFor(() => s.server.metrics.updatesPersisted >= 1, 'the edit to be stored')
    a.destroy()
    await s.stop()
    // Corrupt the log: an entry that is not a Yjs update.
    const store = new LevelStore(dataDir)
    await store.open()
    const before = await store.load('broken')
    const garbage = new Uint8Array([0xff, 0xfe, 0xfd, 0x01, 0x02, 0x03, 0x04])
    await store.write({ appends: [{ room: 'broken', update: garbage }], compactions: [] })
    await store.close()

    s = await startServer({}, dataDir)
    try {
      const raw = new RawClient(`${s.url}/broken`)
      const code = await raw.closed
      assert.equal(code, 1011)
      assert.match(raw.closeReason, /could not be loaded/)
      const logged = s.logs.lines.find((l) => l.room === 'broken' && l.level === 50)
      assert.ok(logged, 'the failure is logged with the room name')
      // A writer cannot get in and replace the content with an empty document.
      const b = connectProvider(s.url, 'broken')
      const refusals: number[] = []
      b.provider.on('connection-close', (event) => {
        if (event?.code === 1011) refusals.push(event.code)
      })
      await waitFor(() => refusals.length > 0, 'the writer to be refused')
      b.text.insert(0, 'overwrite?')
      // The provider reconnects with the edit pending; that attempt is refused too.
      const refused = refusals.length
      await waitFor(() => refusals.length > refused, 'a reconnect with the edit to be refused')
      b.destroy()
      // Other rooms are unaffected.
      const other = connectProvider(s.url, 'fine')
      await synced(other)
      other.destroy()
    } finally {
      await s.stop()
    }
    const after = new LevelStore(dataDir)
    await after.open()
    try {
      const stored = await after.load('broken')
      assert.equal(stored.updates.length, before.updates.length + 1)
      assert.deepEqual([...(stored.updates.at(-1) ?? [])], [...garbage])
    } finally {
      await after.close()
      removeDir(dataDir)
    }
  })

  test('a second server on the same data directory fails at start with one clear sentence', async () => {
    const s = await startServer()
    try {
      const result = runPlait(['--port', '0', '--data', s.dataDir])
      assert.equal(result.status, 1)
      assert.match(result.stderr, /in use by another plait process/)
      assert.equal(result.stderr.trim().split('\n').length, 1, `one line, got:\n${result.stderr}`)
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})
