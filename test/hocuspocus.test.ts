// Hocuspocus providers (the real @hocuspocus/provider, as Tiptap uses it) on plait's base URL: sync,
// awareness, many documents over one socket, the same documents as y-websocket clients, stateless
// messages, and what a malformed frame does.
import assert from 'node:assert/strict'
import { createServer as createHttpServer } from 'node:http'
import { after, before, describe, test } from 'node:test'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { createLogger } from '../server/logger.js'
import { encodeQueryAwareness, encodeSyncStep1, encodeUpdate } from '../server/protocol/messages.js'
import { createServer } from '../server/server.js'
import { connectProvider, synced, updateOf, upgradeStatus, waitFor } from './helpers/clients.js'
import { type HpClient, hocuspocusProvider, RawHocuspocusClient, sharedSocket } from './helpers/hocuspocus.js'
import { LogCapture, removeDir, startServer, type TestServer, tempDir } from './helpers/server.js'

const isSynced = (...clients: HpClient[]) => clients.every((c) => c.provider.isSynced)

/** `varString(name)` then `body`: a Hocuspocus frame built by hand. */
function frame(name: string, body: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, name)
  encoding.writeUint8Array(encoder, body)
  return encoding.toUint8Array(encoder)
}

describe('Hocuspocus providers', () => {
  let s: TestServer
  before(async () => {
    s = await startServer()
  })
  after(() => s.stop())

  test('the base URL is a WebSocket; a room path still is one too', async () => {
    assert.equal(await upgradeStatus(s.port, '/'), 101)
    assert.equal(await upgradeStatus(s.port, '/team/notes'), 101)
  })

  test('two providers converge', async () => {
    const a = hocuspocusProvider({ url: s.url }, 'hp/converge')
    const b = hocuspocusProvider({ url: s.url }, 'hp/converge')
    try {
      await waitFor(() => isSynced(a, b), 'both providers to sync')
      a.text.insert(0, 'hello ')
      b.text.insert(0, 'world ')
      await waitFor(
        () => a.text.length === 12 && a.text.toString() === b.text.toString(),
        'both edits on both sides',
      )
      assert.equal(a.scope(), 'read-write')
      await waitFor(() => a.provider.unsyncedChanges === 0, 'its edit acknowledged')
    } finally {
      a.destroy()
      b.destroy()
    }
  })

  test('awareness goes both ways, and query awareness is answered', async () => {
    const a = hocuspocusProvider({ url: s.url }, 'hp/aware')
    const b = hocuspocusProvider({ url: s.url }, 'hp/aware')
    let raw: RawHocuspocusClient | null = null
    try {
      await waitFor(() => isSynced(a, b), 'sync')
      a.provider.setAwarenessField('user', { name: 'Ada' })
      b.provider.setAwarenessField('user', { name: 'Bo' })
      const names = (c: HpClient) =>
        [...(c.provider.awareness?.getStates().values() ?? [])].map((state) => state.user?.name).sort()
      await waitFor(() => names(a).join() === 'Ada,Bo' && names(b).join() === 'Ada,Bo', 'both states on both')
      // Query awareness: a raw socket's join brings every state, and so does each query after it.
      raw = new RawHocuspocusClient(s.url)
      const r = raw
      await r.opened
      r.send(frame('hp/aware', encodeSyncStep1(new Uint8Array([0]))))
      await waitFor(() => r.of('hp/aware').some((m) => m.kind === 'awareness'), 'the states on joining')
      const before = r.of('hp/aware').filter((m) => m.kind === 'awareness').length
      r.send(frame('hp/aware', encodeQueryAwareness()))
      await waitFor(
        () => r.of('hp/aware').filter((m) => m.kind === 'awareness').length > before,
        'the states again, asked for',
      )
    } finally {
      a.destroy()
      b.destroy()
      raw?.close()
    }
  })

  test('one socket carries several documents, each isolated; detaching one leaves the others', async () => {
    const socket = sharedSocket(s.url)
    const notes = ['hp/multi/1', 'hp/multi/2', 'hp/multi/3'].map((name) =>
      hocuspocusProvider({ websocket: socket }, name),
    )
    const other = hocuspocusProvider({ url: s.url }, 'hp/multi/2')
    try {
      await waitFor(() => isSynced(...notes, other), 'every document to sync')
      notes.forEach((note, i) => {
        note.text.insert(0, `note ${i + 1}`)
      })
      await waitFor(() => other.text.toString() === 'note 2', 'document 2 reaches its other client')
      assert.equal(s.server.registry.get('hp/multi/1')?.doc.getText('t').toString(), 'note 1')
      assert.equal(s.server.registry.get('hp/multi/3')?.doc.getText('t').toString(), 'note 3')
      const metrics = await (await fetch(`${s.http}/metrics`)).text()
      assert.match(metrics, /plait_sockets_by_protocol\{protocol="hocuspocus"\} 2/)
      assert.match(metrics, /plait_open_documents\{protocol="hocuspocus"\} 4/)

      notes[0].provider.detach()
      await waitFor(() => s.server.registry.get('hp/multi/1')?.size === 0, 'document 1 left its room')
      other.text.insert(other.text.length, '!')
      await waitFor(() => notes[1].text.toString() === 'note 2!', 'document 2 still live on the socket')
      notes[0].provider.attach()
      await waitFor(() => s.server.registry.get('hp/multi/1')?.size === 1, 'document 1 back')
      notes[0].text.insert(0, '>')
      await waitFor(
        () => s.server.registry.get('hp/multi/1')?.doc.getText('t').toString() === '>note 1',
        'document 1 edits again after re-attaching',
      )
    } finally {
      for (const note of notes) note.destroy()
      socket.destroy()
      other.destroy()
    }
  })

  test('with sessionAwareness, two providers of one document share a socket', async () => {
    const socket = sharedSocket(s.url)
    const a = hocuspocusProvider({ websocket: socket }, 'hp/session', { sessionAwareness: true })
    const b = hocuspocusProvider({ websocket: socket }, 'hp/session', { sessionAwareness: true })
    try {
      await waitFor(() => isSynced(a, b), 'both sessions sync')
      a.text.insert(0, 'a')
      await waitFor(() => b.text.toString() === 'a', "one session's edit reaches the other")
      assert.equal(s.server.registry.get('hp/session')?.size, 2)
    } finally {
      a.destroy()
      b.destroy()
      socket.destroy()
    }
  })

  test('a HocuspocusProvider and a y-websocket provider edit one document and see each other', async () => {
    const hp = hocuspocusProvider({ url: s.url }, 'team/notes')
    const yws = connectProvider(s.url, 'team/notes')
    try {
      await waitFor(() => isSynced(hp), 'hocuspocus sync')
      await synced(yws)
      hp.text.insert(0, 'from tiptap ')
      yws.text.insert(0, 'from y-websocket ')
      await waitFor(
        () => hp.text.length === 29 && hp.text.toString() === yws.text.toString(),
        'both edits in both clients',
      )
      hp.provider.setAwarenessField('user', { name: 'hp' })
      yws.provider.awareness.setLocalStateField('user', { name: 'yws' })
      const seen = (states: Map<number, Record<string, { name?: string }>>) =>
        [...states.values()]
          .map((state) => state.user?.name)
          .sort()
          .join()
      await waitFor(
        () =>
          seen(hp.provider.awareness?.getStates() ?? new Map()) === 'hp,yws' &&
          seen(yws.provider.awareness.getStates()) === 'hp,yws',
        'awareness across both families',
      )
    } finally {
      hp.destroy()
      yws.destroy()
    }
  })

  test('stateless messages reach the server, and the server sends them to a document', async () => {
    const heard: { room: string; payload: string }[] = []
    const off = s.server.events.on('stateless', ({ room, payload }) => heard.push({ room, payload }))
    const a = hocuspocusProvider({ url: s.url }, 'hp/stateless')
    const b = hocuspocusProvider({ url: s.url }, 'hp/stateless')
    try {
      await waitFor(() => isSynced(a, b), 'sync')
      a.provider.sendStateless('{"ping":1}')
      await waitFor(() => heard.length === 1, 'the stateless event')
      assert.deepEqual(heard[0], { room: 'hp/stateless', payload: '{"ping":1}' })
      assert.equal(s.server.sendStateless('hp/stateless', 'pong'), 2)
      await waitFor(
        () => a.stateless.includes('pong') && b.stateless.includes('pong'),
        'both providers hear it',
      )
    } finally {
      off()
      a.destroy()
      b.destroy()
    }
  })

  test('an update held back for missing dependencies is not acknowledged until it is stored', async () => {
    const raw = new RawHocuspocusClient(s.url)
    const other = new RawHocuspocusClient(s.url)
    const source = new Y.Doc()
    const text = source.getText('t')
    const first = updateOf(source, () => text.insert(0, 'a'))
    const second = updateOf(source, () => text.insert(1, 'b'))
    const statuses = () => raw.of('hp/held').filter((m) => m.kind === 'sync-status').length
    const step2s = () => raw.of('hp/held').filter((m) => m.kind === 'sync-step2').length
    try {
      await Promise.all([raw.opened, other.opened])
      raw.send(frame('hp/held', encodeUpdate(second)))
      // Two round trips: a wrongly early status would have left before the second answer.
      raw.send(frame('hp/held', encodeSyncStep1(new Uint8Array([0]))))
      raw.send(frame('hp/held', encodeSyncStep1(new Uint8Array([0]))))
      await waitFor(() => step2s() === 2, 'two round trips')
      assert.equal(statuses(), 0)
      assert.equal(s.server.registry.get('hp/held')?.doc.getText('t').toString(), '')
      // What it waits for comes from another client: its status follows once both are stored.
      other.send(frame('hp/held', encodeUpdate(first)))
      await waitFor(() => statuses() === 1, 'the held update acknowledged once applied and stored')
      assert.equal(s.server.registry.get('hp/held')?.doc.getText('t').toString(), 'ab')
    } finally {
      raw.close()
      other.close()
      source.destroy()
    }
  })

  test('a malformed frame closes only its socket', async () => {
    const bad = new RawHocuspocusClient(s.url)
    const good = new RawHocuspocusClient(s.url)
    try {
      await Promise.all([bad.opened, good.opened])
      good.send(frame('hp/raw', encodeSyncStep1(new Uint8Array([0]))))
      await waitFor(() => good.of('hp/raw').some((m) => m.kind === 'sync-step2'), 'the good socket syncs')
      bad.send(new Uint8Array([5, 0x61])) // a name of 5 bytes, 1 present
      await waitFor(() => bad.closeCode !== null, 'the bad socket closed')
      assert.equal(bad.closeCode, 1007)
      good.send(frame('hp/raw', new Uint8Array([3])))
      good.send(frame('hp/raw', encodeSyncStep1(new Uint8Array([0]))))
      await waitFor(
        () => good.of('hp/raw').filter((m) => m.kind === 'sync-step2').length === 2,
        'still served',
      )
      assert.equal(good.closeCode, null)
    } finally {
      bad.close()
      good.close()
    }
  })
})

describe('Hocuspocus providers under a path prefix', () => {
  test("attached to an app's server, the prefix alone is the base URL", async () => {
    const app = createHttpServer((_req, res) => res.writeHead(404).end())
    const dataDir = tempDir()
    const plait = createServer({
      httpServer: app,
      pathPrefix: '/collab',
      dataDir,
      logger: createLogger('warn', new LogCapture()),
    })
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve))
    await plait.listen()
    const { port } = app.address() as { port: number }
    const hp = hocuspocusProvider({ url: `ws://127.0.0.1:${port}/collab` }, 'team/prefixed')
    const yws = connectProvider(`ws://127.0.0.1:${port}/collab`, 'team/prefixed')
    try {
      await waitFor(() => isSynced(hp), 'the provider syncs under the prefix')
      await synced(yws)
      hp.text.insert(0, 'both')
      await waitFor(() => yws.text.toString() === 'both', 'the y-websocket client gets it')
    } finally {
      hp.destroy()
      yws.destroy()
      await plait.close()
      await new Promise((r) => app.close(r))
      removeDir(dataDir)
    }
  })
})
