import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { encodeAwarenessStates } from '../server/documents/awareness-state.js'
import {
  encodeAwareness,
  encodeQueryAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
} from '../server/protocol/messages.js'
import {
  connectProvider,
  parseServerFrame,
  RawClient,
  roomState,
  roomStatus,
  synced,
  type TestProvider,
  updateOf,
  waitFor,
  waitForAsync,
} from './helpers/clients.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'

describe('sync with stock y-websocket providers', () => {
  let s: TestServer
  const open: TestProvider[] = []
  const connect = (room: string) => {
    const client = connectProvider(s.url, room)
    open.push(client)
    return client
  }

  before(async () => {
    s = await startServer({ tuning: { heartbeatMs: 300 } })
  })
  after(async () => {
    for (const c of open) c.destroy()
    await s.stop()
    removeDir(s.dataDir)
  })

  test('three providers editing concurrently converge to the same text', async () => {
    const clients = [connect('converge'), connect('converge'), connect('converge')]
    await synced(...clients)
    for (let round = 0; round < 20; round++) {
      clients.forEach((c, i) => {
        // Insert at either end so markers never split each other.
        c.text.insert(Math.random() < 0.5 ? 0 : c.text.length, `<${i}:${round}>`)
      })
    }
    const expectedLength = 3 * 20
    const markers = (c: TestProvider) => c.text.toString().match(/<\d:\d+>/g)?.length ?? 0
    await waitFor(
      () =>
        clients.every(
          (c) => markers(c) === expectedLength && c.text.toString() === clients[0].text.toString(),
        ),
      'all three texts to hold every marker and be equal',
    )
    const final = clients[0].text.toString()
    assert.equal(final.match(/<\d:\d+>/g)?.length, expectedLength)
  })

  test('a late joiner receives the whole document in its first sync', async () => {
    const writer = connect('late')
    await synced(writer)
    writer.text.insert(0, 'written before you came')
    writer.doc.getMap('m').set('k', 42)
    await waitForAsync(
      async () => (await roomState(s.http, 'late'))?.getMap('m').get('k') === 42,
      'the edits to reach the server',
    )
    const late = connect('late')
    await synced(late)
    assert.equal(late.text.toString(), 'written before you came')
    assert.equal(late.doc.getMap('m').get('k'), 42)
  })

  test('rooms are isolated from each other', async () => {
    const a = connect('iso-a')
    const b = connect('iso-b')
    await synced(a, b)
    a.text.insert(0, 'only in a')
    const a2 = connect('iso-a')
    await waitFor(() => a2.text.toString() === 'only in a', 'a second client of room a to see the edit')
    assert.equal(b.text.toString(), '')
  })

  test('room names may contain slashes, spaces and non-ASCII characters', async () => {
    const name = 'team/notes/2026 ünïcode ✓'
    const a = connect(name)
    const b = connect(name)
    await synced(a, b)
    a.text.insert(0, 'shared')
    await waitFor(() => b.text.toString() === 'shared', 'the edit to cross')
    const status = await roomStatus(s.http, name)
    assert.deepEqual([status.loaded, status.clients], [true, 2], 'the room is loaded under its decoded name')
  })

  test('awareness reaches others and is removed when a provider disconnects', async () => {
    const a = connect('aw')
    const b = connect('aw')
    await synced(a, b)
    a.provider.awareness.setLocalStateField('user', { name: 'Ada' })
    await waitFor(
      () => b.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === 'Ada',
      'b to see Ada',
    )
    a.provider.awareness.setLocalStateField('cursor', 7)
    await waitFor(
      () => b.provider.awareness.getStates().get(a.doc.clientID)?.cursor === 7,
      'b to see the update',
    )
    a.provider.disconnect()
    await waitFor(() => !b.provider.awareness.getStates().has(a.doc.clientID), "Ada's state to be removed")
  })

  test('awareness of a socket that stops answering pings is removed by the heartbeat', async () => {
    const watcher = connect('aw-dead')
    await synced(watcher)
    const dead = new RawClient(`${s.url}/aw-dead`)
    await dead.opened
    const clientID = 987654
    dead.send(encodeAwareness(encodeAwarenessStates([{ clientID, clock: 1, state: '{"user":"ghost"}' }])))
    await waitFor(() => watcher.provider.awareness.getStates().has(clientID), 'the ghost to appear')
    // Stop reading: no pong goes back, as with a vanished laptop.
    dead.ws.pause()
    await waitFor(
      () => !watcher.provider.awareness.getStates().has(clientID),
      'the ghost to be removed',
      5000,
    )
    dead.close()
  })

  test('awareness is echoed to its sender and query-awareness is answered', async () => {
    const raw = new RawClient(`${s.url}/aw-echo`)
    await raw.opened
    raw.send(encodeAwareness(encodeAwarenessStates([{ clientID: 4242, clock: 1, state: '{"name":"me"}' }])))
    await waitFor(() => raw.framesOf(1).length >= 1, 'the echo of my own awareness')
    const before = raw.framesOf(1).length
    raw.send(encodeQueryAwareness())
    await waitFor(() => raw.framesOf(1).length > before, 'an answer to query-awareness')
    const answer = raw.framesOf(1).at(-1)?.payload as Uint8Array
    const decoder = decoding.createDecoder(answer)
    assert.equal(decoding.readVarUint(decoder), 1)
    assert.equal(decoding.readVarUint(decoder), 4242)
    raw.close()
  })

  test('the server sends one message per frame and answers step 1 with step 2', async () => {
    const writer = connect('frames')
    await synced(writer)
    writer.text.insert(0, 'abc')
    writer.provider.awareness.setLocalStateField('n', 1)
    await waitForAsync(
      async () => (await roomState(s.http, 'frames'))?.getText('t').toString() === 'abc',
      'the edit to reach the server',
    )
    const raw = new RawClient(`${s.url}/frames`)
    await raw.opened
    raw.send(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())))
    await waitFor(() => raw.framesOf(0, 1).length === 1, 'sync step 2')
    await waitFor(() => raw.framesOf(1).length >= 1, 'the room awareness')
    for (const frame of raw.frames) {
      // Re-encoding the parsed message must give the whole frame back: nothing trails it.
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, frame.type)
      if (frame.sub !== null) encoding.writeVarUint(encoder, frame.sub)
      if (frame.payload !== null) encoding.writeVarUint8Array(encoder, frame.payload)
      assert.deepEqual(encoding.toUint8Array(encoder), frame.bytes)
    }
    const doc = new Y.Doc()
    Y.applyUpdate(doc, raw.framesOf(0, 1)[0].payload as Uint8Array)
    assert.equal(doc.getText('t').toString(), 'abc')
    raw.close()
  })

  test('an update sent by a raw client reaches providers, but not back to its sender', async () => {
    const reader = connect('raw-write')
    await synced(reader)
    const raw = new RawClient(`${s.url}/raw-write`)
    await raw.opened
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'from raw')
    raw.send(encodeUpdate(Y.encodeStateAsUpdate(doc)))
    await waitFor(() => reader.text.toString() === 'from raw', 'the provider to receive it')
    // A marker through the same path: the reader's next edit is broadcast after the raw client's, so once
    // it reaches the raw client an echo of the raw client's own update would have arrived too.
    reader.text.insert(reader.text.length, '!')
    await waitFor(() => raw.framesOf(0, 2).length > 0, 'the marker to reach the sender')
    const echoed = raw
      .framesOf(0, 2)
      .flatMap((f) => Y.decodeUpdate(f.payload as Uint8Array).structs)
      .filter((struct) => struct.id.client === doc.clientID)
    assert.equal(echoed.length, 0, 'the sender does not get its own update back')
    raw.close()
  })

  test('sync frames carry payloads of every varint length class, as lib0 reads them', () => {
    // The server writes the [0][sub][varUint length] header itself (one allocation, one copy).
    for (const length of [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
      const payload = new Uint8Array(length).map((_, i) => i % 251)
      for (const [sub, frame] of [
        [0, encodeSyncStep1(payload)],
        [1, encodeSyncStep2(payload)],
        [2, encodeUpdate(payload)],
      ] as const) {
        const decoder = decoding.createDecoder(frame)
        assert.equal(decoding.readVarUint(decoder), 0)
        assert.equal(decoding.readVarUint(decoder), sub)
        assert.deepEqual(decoding.readVarUint8Array(decoder), payload, `payload of ${length} bytes`)
        assert.equal(decoding.hasContent(decoder), false, 'nothing trails the payload')
      }
    }
  })

  test('broadcasts of every frame-length class (7-bit, 16-bit, 64-bit) arrive intact', async () => {
    // Broadcast frames are built by the server itself, not by ws: each WebSocket length encoding must parse,
    // byte for byte (a wrong length would surface only as a garbled next frame and a reconnect).
    const reader = connect('lengths')
    await synced(reader)
    const writer = new RawClient(`${s.url}/lengths`)
    const listener = new RawClient(`${s.url}/lengths`)
    await Promise.all([writer.opened, listener.opened])
    const writerDoc = new Y.Doc()
    const listenerDoc = new Y.Doc()
    for (const size of [10, 200, 70_000, 300_000]) {
      const text = writerDoc.getText('t')
      writer.send(
        encodeUpdate(updateOf(writerDoc, () => text.insert(text.length, String(size % 10).repeat(size)))),
      )
      const expected = writerDoc.getText('t').length
      await waitFor(() => listener.framesOf(0, 2).length > 0, `the ${size}-character update`)
      for (const frame of listener.framesOf(0, 2)) {
        assert.deepEqual(encodeUpdate(frame.payload as Uint8Array), frame.bytes, 'nothing trails the message')
        Y.applyUpdate(listenerDoc, frame.payload as Uint8Array)
      }
      listener.frames.length = 0
      assert.equal(listenerDoc.getText('t').length, expected)
    }
    await waitFor(
      () => reader.text.toString() === writerDoc.getText('t').toString(),
      'the provider to receive every size',
    )
    assert.equal(listener.closeCode, null, 'the listener was never disconnected')
    writer.close()
    listener.close()
  })

  test('in a big busy room (paced broadcasts) every client still receives every update', async () => {
    const listeners: { raw: RawClient; doc: Y.Doc }[] = []
    for (let i = 0; i < 150; i++) {
      const raw = new RawClient(`${s.url}/big`)
      const doc = new Y.Doc()
      raw.ws.on('message', (data: Buffer) => {
        const bytes = new Uint8Array(data)
        // sync step 2 and updates carry document bytes: [0][1|2][update]
        if (bytes[0] === 0 && bytes[1] !== 0)
          Y.applyUpdate(doc, parseServerFrame(bytes).payload as Uint8Array)
      })
      listeners.push({ raw, doc })
    }
    await Promise.all(listeners.map((l) => l.raw.opened))
    const writers = [connect('big'), connect('big')]
    await synced(...writers)
    for (let i = 0; i < 100; i++) {
      writers[i % 2].text.insert(0, `${i};`)
      // Pacing, not synchronisation: spreads the sends over several turns, as typing would.
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1))
    }
    // "0;" … "99;": 10 × 2 + 90 × 3 characters
    await waitFor(() => writers.every((w) => w.text.length === 290), 'the writers to converge')
    await waitFor(
      () => listeners.every((l) => l.doc.getText('t').length === 290),
      'all 150 listeners to hold every update',
    )
    for (const l of listeners) l.raw.close()
  })
})

describe('--room-frames-per-second', () => {
  test('a busy room merges what became durable between its broadcasts, losing nothing', async () => {
    // 20 frames a second for 2 members: one broadcast per 100 ms at most.
    const s = await startServer({ tuning: { roomFramesPerSecond: 20 } })
    const listener = new RawClient(`${s.url}/paced`)
    const writer = connectProvider(s.url, 'paced')
    try {
      await listener.opened
      await synced(writer)
      for (let i = 0; i < 10; i++) {
        writer.text.insert(writer.text.length, `${i};`)
        // Pacing, not synchronisation: each edit leaves in its own frame and reaches the server in its
        // own turn.
        await new Promise((r) => setTimeout(r, 2))
      }
      const doc = new Y.Doc()
      const expected = '0;1;2;3;4;5;6;7;8;9;'
      await waitFor(() => {
        for (const frame of listener.framesOf(0, 2)) Y.applyUpdate(doc, frame.payload as Uint8Array)
        return doc.getText('t').toString() === expected
      }, 'the listener to hold all ten edits')
      const frames = listener.framesOf(0, 2).length
      assert.ok(frames <= 4, `ten edits in ~20 ms arrived in ${frames} frames, not merged`)
    } finally {
      writer.destroy()
      listener.close()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})

describe('the heartbeat', () => {
  test('pings each socket once per interval, a slice of the sockets at a time rather than all at once', async () => {
    const s = await startServer({ tuning: { heartbeatMs: 500 } })
    const clients = Array.from({ length: 20 }, () => new RawClient(`${s.url}/heartbeat`))
    const pings = clients.map(() => [] as number[])
    clients.forEach((c, i) => {
      c.ws.on('ping', () => pings[i].push(performance.now()))
    })
    try {
      await Promise.all(clients.map((c) => c.opened))
      // The first round may start before every socket is open; the second and third are steady.
      await waitFor(() => pings.every((p) => p.length >= 3), 'every socket to be pinged three times', 5000)
      for (const p of pings) {
        const gap = p[2] - p[1]
        assert.ok(
          gap > 350 && gap < 800,
          `a socket was pinged ${gap.toFixed(0)} ms after its last ping, not ~500`,
        )
      }
      const seconds = pings.map((p) => p[1])
      const spread = Math.max(...seconds) - Math.min(...seconds)
      assert.ok(
        spread >= 200,
        `one round's pings of 20 sockets came within ${spread.toFixed(0)} ms of each other`,
      )
    } finally {
      for (const c of clients) c.close()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})
