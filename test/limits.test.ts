import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { encodeAwarenessStates } from '../server/documents/awareness-state.js'
import {
  encodeAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
} from '../server/protocol/messages.js'
import {
  connectProvider,
  metric,
  RawClient,
  roomStatus,
  synced,
  type TestProvider,
  updateOf,
  waitFor,
  waitForAsync,
} from './helpers/clients.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'

/** Sends one frame on a fresh socket and returns the close code the server answered with. */
async function closeCodeFor(
  url: string,
  frame: Uint8Array | string,
): Promise<{ code: number; reason: string }> {
  const raw = new RawClient(url)
  await raw.opened
  raw.send(frame)
  const code = await Promise.race([raw.closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))])
  raw.close()
  return { code, reason: raw.closeReason }
}

function frameWith(type: number, ...parts: (number | Uint8Array)[]): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  for (const part of parts) {
    if (typeof part === 'number') encoding.writeVarUint(encoder, part)
    else encoding.writeUint8Array(encoder, part)
  }
  return encoding.toUint8Array(encoder)
}

describe('bad input closes only the socket that sent it', () => {
  let s: TestServer
  let a: TestProvider
  let b: TestProvider
  before(async () => {
    s = await startServer({ limits: { maxDocumentBytes: 64 * 1024 } })
    a = connectProvider(s.url, 'victim')
    b = connectProvider(s.url, 'victim')
    await synced(a, b)
  })
  after(async () => {
    a.destroy()
    b.destroy()
    await s.stop()
    removeDir(s.dataDir)
  })

  const cases: [string, () => Uint8Array | string, number][] = [
    ['an unknown message type', () => frameWith(9), 1002],
    ['an unknown sync sub-type', () => frameWith(0, 7, new Uint8Array([0])), 1002],
    ['a varint that never ends', () => new Uint8Array([0x80, 0x80, 0x80]), 1007],
    ['a payload shorter than its length', () => frameWith(0, 2, 50, new Uint8Array([1, 2, 3])), 1007],
    [
      'an update that is not a Yjs update',
      () => encodeUpdate(new Uint8Array([0xff, 0xff, 0xff, 0x0f, 0xaa, 1])),
      1007,
    ],
    ['a step 1 whose state vector is garbage', () => encodeSyncStep1(new Uint8Array([5, 0xff, 0xff])), 1007],
    [
      'an awareness state that is not JSON',
      () => encodeAwareness(encodeAwarenessStates([{ clientID: 1, clock: 1, state: '{nope' }])),
      1007,
    ],
    ['a text frame', () => 'hello', 1002],
    ['an empty frame', () => new Uint8Array(0), 1002],
    ['a frame over the document size limit', () => encodeUpdate(new Uint8Array(100 * 1024)), 4413],
  ]
  for (const [what, frame, expected] of cases) {
    test(`${what} closes that socket with ${expected}`, async () => {
      const { code, reason } = await closeCodeFor(`${s.url}/victim`, frame())
      assert.equal(code, expected, `close reason: ${reason}`)
      assert.ok(reason.length > 0, 'the close carries a reason')
    })
  }

  test('a frame with reserved bits set closes that socket with 1002', async () => {
    const raw = new RawClient(`${s.url}/victim`)
    await raw.opened
    // FIN + RSV1 + binary opcode, masked, one byte of payload: RSV1 without a negotiated extension.
    const mask = randomBytes(4)
    const socket = (raw.ws as unknown as { _socket: { write(b: Buffer): void } })._socket
    socket.write(Buffer.concat([Buffer.from([0xc2, 0x81]), mask, Buffer.from([0x00 ^ mask[0]])]))
    assert.equal(await raw.closed, 1002)
  })

  test('after all of that the room and its clients are unharmed', async () => {
    a.text.insert(0, 'still here')
    await waitFor(() => b.text.toString() === 'still here', 'b to see the edit')
    assert.equal((await roomStatus(s.http, 'victim')).clients, 2)
  })
})

describe('capacity limits', () => {
  test('a room over its client limit and a process over its room limit answer 1013', async () => {
    const s = await startServer({ limits: { maxClientsPerRoom: 2, maxRooms: 2 } })
    const clients: RawClient[] = []
    try {
      for (const room of ['r1', 'r1', 'r2']) {
        const c = new RawClient(`${s.url}/${room}`)
        clients.push(c)
        await c.opened
        await waitFor(() => c.frames.length > 0, 'the server step 1')
      }
      const third = new RawClient(`${s.url}/r1`)
      clients.push(third)
      assert.equal(await third.closed, 1013)
      assert.match(third.closeReason, /full/)
      const newRoom = new RawClient(`${s.url}/r3`)
      clients.push(newRoom)
      assert.equal(await newRoom.closed, 1013)
      assert.match(newRoom.closeReason, /maximum number of rooms/)
    } finally {
      for (const c of clients) c.close()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('a client that stops reading is closed with 1013 and its buffer freed', async () => {
    const limit = 256 * 1024
    const s = await startServer({ limits: { maxBufferedBytes: limit, maxMessagesPerSecond: 100_000 } })
    const writer = new RawClient(`${s.url}/flood`)
    const slow = new RawClient(`${s.url}/flood`)
    const healthy = connectProvider(s.url, 'flood')
    try {
      await Promise.all([writer.opened, slow.opened])
      await synced(healthy)
      slow.ws.pause()
      const doc = new Y.Doc()
      const chunk = 'y'.repeat(16 * 1024)
      // What the server holds for each socket: bytes queued but not yet taken by the kernel.
      let peakBuffered = 0
      const sample = () => {
        for (const c of s.server.gateway.connections)
          peakBuffered = Math.max(peakBuffered, c.ws.bufferedAmount)
      }
      // Up to 64 MiB in all: far past what the slow socket (and the kernel's buffers) may hold.
      const closed1013 = () => metric(s.http, 'plait_socket_closes_total{code="1013"}')
      for (let i = 0; i < 4096; i++) {
        writer.send(encodeUpdate(updateOf(doc, () => doc.getText('t').insert(0, chunk))))
        if (i % 16 === 15) {
          // Pacing, not synchronisation: lets the server's writes pile up between bursts.
          await new Promise((r) => setTimeout(r, 5))
          sample()
          if ((await closed1013()) > 0) break
        }
      }
      await waitForAsync(async () => (await closed1013()) === 1, 'the slow socket to be closed', 20_000)
      await waitForAsync(
        async () => (await metric(s.http, 'plait_open_sockets')) === 2,
        'its connection to be dropped',
        5000,
      )
      // The limit, plus the frames of one turn that were already on their way.
      assert.ok(peakBuffered < limit + 1024 * 1024, `a socket held ${Math.round(peakBuffered / 1024)} KiB`)
      // The healthy client kept up and has everything the writer sent so far.
      const sent = doc.getText('t').length
      await waitFor(() => healthy.text.length === sent, 'the healthy client to catch up', 20_000)
    } finally {
      writer.close()
      slow.close()
      healthy.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})

describe('updates that wait for missing dependencies', () => {
  /** Edits of `doc` made after an edit nobody is ever sent: each depends on something the room lacks. */
  function orphans(count: number, size: number): Uint8Array[] {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'never sent')
    return Array.from({ length: count }, (_, i) =>
      encodeUpdate(updateOf(doc, () => doc.getText('t').insert(0, `${i}${'x'.repeat(size)}`))),
    )
  }

  test('an update that arrives before its dependency is applied once the dependency arrives', async () => {
    const s = await startServer()
    const raw = new RawClient(`${s.url}/order`)
    const reader = connectProvider(s.url, 'order')
    try {
      await raw.opened
      await synced(reader)
      const doc = new Y.Doc()
      const first = updateOf(doc, () => doc.getText('t').insert(0, 'one '))
      const second = updateOf(doc, () => doc.getText('t').insert(4, 'two'))
      raw.send(encodeUpdate(second))
      raw.send(encodeUpdate(first))
      await waitFor(() => reader.text.toString() === 'one two', 'both edits, in order')
    } finally {
      raw.close()
      reader.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('a socket that keeps sending them is closed (1013) and they are dropped; nothing incomplete reaches anyone', async () => {
    const s = await startServer()
    const raw = new RawClient(`${s.url}/orphans`)
    const reader = connectProvider(s.url, 'orphans')
    try {
      await raw.opened
      await synced(reader)
      for (const frame of orphans(200, 100)) raw.send(frame)
      assert.equal(await raw.closed, 1013)
      assert.match(raw.closeReason, /depend on changes the server does not have; reconnect to sync/)
      assert.ok(
        s.logs.lines.some(
          (l) => l.msg === 'dropped updates whose dependencies never arrived; closed their sender',
        ),
      )
      const metrics = await (await fetch(`${s.http}/metrics`)).text()
      assert.match(metrics, /plait_held_back_dropped_total [1-9]/)
      const writer = connectProvider(s.url, 'orphans')
      await synced(writer)
      writer.text.insert(0, 'still works')
      await waitFor(() => reader.text.toString() === 'still works', 'the room to keep syncing')
      writer.destroy()
    } finally {
      raw.close()
      reader.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('a flood of them over 25 sockets leaves the server responsive and a neighbour room working', async () => {
    const s = await startServer({ logLevel: 'warn' })
    const neighbours = [connectProvider(s.url, 'quiet'), connectProvider(s.url, 'quiet')]
    const sockets = Array.from({ length: 25 }, () => new RawClient(`${s.url}/flooded`))
    try {
      await Promise.all(sockets.map((raw) => raw.opened))
      await synced(...neighbours)
      // 10,000 orphans of ~23 bytes (the measured freeze: /healthz silent for over 50 s), then 1.5 KB ones.
      for (const raw of sockets) for (const frame of orphans(400, 12)) raw.send(frame)
      for (const frame of orphans(2000, 1500)) sockets[0].send(frame)
      const started = performance.now()
      const health = await fetch(`${s.http}/healthz`, { signal: AbortSignal.timeout(5000) })
      assert.equal(health.status, 200, `/healthz answered in ${Math.round(performance.now() - started)} ms`)
      neighbours[0].text.insert(0, 'hello')
      await waitFor(() => neighbours[1].text.toString() === 'hello', 'the neighbour room to sync', 5000)
      await waitFor(
        () => sockets.every((raw) => raw.closeCode === 1013),
        'every flooding socket to be closed',
      )
    } finally {
      for (const raw of sockets) raw.close()
      for (const n of neighbours) n.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})

describe('fuzz', () => {
  test('thousands of random and mutated frames leave the server and its rooms working, and loadable after a restart', async () => {
    const s = await startServer({ limits: { maxDocumentBytes: 256 * 1024, maxMessagesPerSecond: 100_000 } })
    const a = connectProvider(s.url, 'fuzz')
    const b = connectProvider(s.url, 'fuzz')
    const rooms = ['fuzz', 'fuzz-2', 'fuzz/3']
    let expected = ''
    try {
      await synced(a, b)
      a.text.insert(0, 'before the storm')
      await waitFor(() => b.text.toString() === 'before the storm', 'b to sync')
      // Seeds: real frames a client would send.
      const source = new Y.Doc()
      const seeds: Uint8Array[] = []
      source.on('update', (u: Uint8Array) => seeds.push(encodeUpdate(u)))
      for (let i = 0; i < 20; i++) source.getText('t').insert(0, `seed ${i}`)
      source.getMap('m').set('k', { nested: [1, 2, 3] })
      source.getText('t').delete(3, 10)
      seeds.push(encodeSyncStep2(Y.encodeStateAsUpdate(source)))
      seeds.push(encodeSyncStep1(Y.encodeStateVector(source)))
      seeds.push(
        encodeAwareness(encodeAwarenessStates([{ clientID: 77, clock: 3, state: '{"user":{"n":"x"}}' }])),
      )
      const mutate = (frame: Uint8Array): Uint8Array => {
        const out = new Uint8Array(frame)
        const kind = Math.floor(Math.random() * 5)
        if (kind === 0) return randomBytes(1 + Math.floor(Math.random() * 64))
        if (kind === 1) return out.subarray(0, Math.floor(Math.random() * out.length))
        const flips = 1 + Math.floor(Math.random() * 4)
        for (let i = 0; i < flips; i++) {
          const at = Math.floor(Math.random() * out.length)
          out[at] =
            kind === 2 ? out[at] ^ (1 << Math.floor(Math.random() * 8)) : Math.floor(Math.random() * 256)
        }
        return out
      }
      let sent = 0
      const deadline = Date.now() + 30_000
      while (sent < 3000 && Date.now() < deadline) {
        const raw = new RawClient(`${s.url}/${rooms[sent % rooms.length]}`)
        try {
          await raw.opened
        } catch {
          continue
        }
        for (let i = 0; i < 50 && raw.closeCode === null; i++) {
          raw.send(mutate(seeds[Math.floor(Math.random() * seeds.length)]))
          sent++
          if (i % 10 === 9) await new Promise((r) => setImmediate(r))
        }
        raw.close()
      }
      assert.ok(sent >= 1000, `sent ${sent} frames`)
      // No frame caused an internal error: only protocol closes.
      const internal = s.logs.lines.filter((l) => l.msg === 'connection error')
      assert.deepEqual(internal, [], 'no internal errors')
      // The room still syncs both ways, and a newcomer converges with its clients.
      a.text.insert(0, 'after: ')
      await waitFor(() => b.text.toString() === a.text.toString(), 'a and b to converge')
      b.text.insert(b.text.length, ' (b)')
      await waitFor(() => a.text.toString() === b.text.toString(), 'b to a')
      const c = connectProvider(s.url, 'fuzz')
      await synced(c)
      await waitFor(() => c.text.toString() === a.text.toString(), 'a newcomer to converge')
      c.destroy()
      const other = connectProvider(s.url, 'fuzz-2')
      const other2 = connectProvider(s.url, 'fuzz-2')
      await synced(other, other2)
      other.doc.getMap('x').set('ok', true)
      await waitFor(() => other2.doc.getMap('x').get('ok') === true, 'another fuzzed room to work')
      other.destroy()
      other2.destroy()
      const health = await fetch(`${s.http}/healthz`)
      assert.equal(health.status, 200)
      expected = a.text.toString()
    } finally {
      a.destroy()
      b.destroy()
      // A graceful stop compacts every fuzzed room: what was stored must load again.
      await s.stop()
    }
    const again = await startServer({}, s.dataDir)
    const readers = rooms.map((room) => connectProvider(again.url, room))
    try {
      await synced(...readers)
      assert.equal(readers[0].text.toString(), expected)
      assert.equal(readers[1].doc.getMap('x').get('ok'), true)
      const failed = again.logs.lines.filter((l) => Number(l.level) >= 50)
      assert.deepEqual(failed, [], 'every fuzzed room loads after a restart')
    } finally {
      for (const reader of readers) reader.destroy()
      await again.stop()
      removeDir(s.dataDir)
    }
  })
})
