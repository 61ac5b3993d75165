// Hocuspocus providers with auth and durability: a token per document (its verdict reported the
// Hocuspocus way, nothing of a refused document sent), read-only scope, the sync status sent only once an
// update is durable, and no acknowledged change lost to kill -9.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as encoding from 'lib0/encoding'
import { type Access, AuthError } from '../server/auth/authenticators.js'
import { mintToken } from '../server/cli/token-command.js'
import { encodeDocumentName, withDocumentName } from '../server/protocol/hocuspocus.js'
import { encodeAwareness, encodeQueryAwareness, encodeSyncStep1 } from '../server/protocol/messages.js'
import { waitFor } from './helpers/clients.js'
import { GatedStore } from './helpers/gated-store.js'
import { type HpClient, hocuspocusProvider, RawHocuspocusClient, sharedSocket } from './helpers/hocuspocus.js'
import { freePort, PlaitProcess } from './helpers/plait-process.js'
import { removeDir, startServer, type TestServer, tempDir } from './helpers/server.js'

const SECRET = 'test-secret-that-is-long-enough-for-hs256'
const token = (docs: Record<string, Access>) =>
  mintToken({ secret: SECRET, sub: 'ada', docs, ttlSeconds: 600 })

/** A token message as the provider sends it: the token, then its version. */
function tokenFrame(name: string, value: string): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarString(e, name)
  encoding.writeVarUint(e, 2)
  encoding.writeVarUint(e, 0)
  encoding.writeVarString(e, value)
  encoding.writeVarString(e, '4.8.0')
  return encoding.toUint8Array(e)
}
const forDocument = (name: string, message: Uint8Array) => withDocumentName(encodeDocumentName(name), message)

/** A round trip through the server (stateless there and back): whatever it sent before is in. */
async function roundTrip(s: TestServer, client: HpClient, room: string): Promise<void> {
  const marker = `rt-${Math.random()}`
  const off = s.server.events.on('stateless', ({ payload }) => {
    if (payload === marker) s.server.sendStateless(room, marker)
  })
  client.provider.sendStateless(marker)
  await waitFor(() => client.stateless.includes(marker), 'a round trip')
  off()
}

describe('Hocuspocus providers with tokens', () => {
  let s: TestServer
  before(async () => {
    s = await startServer({ auth: { secret: SECRET } })
  })
  after(() => s.stop())

  test('a valid token syncs; a bad one gets authenticationFailed and nothing of the document', async () => {
    const seed = await s.server.openDocument('vault/a')
    await seed.transact((doc) => doc.getText('t').insert(0, 'secret'))
    seed.release()
    const good = hocuspocusProvider({ url: s.url }, 'vault/a', { token: await token({ 'vault/*': 'write' }) })
    const bad = hocuspocusProvider({ url: s.url }, 'vault/a', { token: 'not-a-jwt' })
    try {
      await waitFor(() => good.provider.isSynced && good.text.toString() === 'secret', 'the good one syncs')
      assert.equal(good.scope(), 'read-write')
      await waitFor(() => bad.denied.length === 1, 'the bad one is told')
      assert.match(bad.denied[0], /malformed|invalid/)
      assert.equal(bad.text.toString(), '')
      assert.equal(bad.provider.isSynced, false)
    } finally {
      good.destroy()
      bad.destroy()
    }
  })

  test('a refused document gets no byte; another document on the socket is served', async () => {
    const raw = new RawHocuspocusClient(s.url)
    try {
      await raw.opened
      raw.send(tokenFrame('vault/a', await token({ 'other/*': 'write' })))
      raw.send(forDocument('vault/a', encodeSyncStep1(new Uint8Array([0]))))
      raw.send(forDocument('vault/a', encodeQueryAwareness()))
      raw.send(forDocument('vault/a', encodeAwareness(new Uint8Array([0]))))
      raw.send(tokenFrame('other/b', await token({ 'other/*': 'write' })))
      raw.send(forDocument('other/b', encodeSyncStep1(new Uint8Array([0]))))
      await waitFor(() => raw.of('other/b').some((m) => m.kind === 'sync-step2'), 'the other document syncs')
      assert.deepEqual(raw.of('vault/a'), [{ kind: 'permission-denied', reason: 'no access to vault/a' }])
      assert.equal(raw.closeCode, null)
    } finally {
      raw.close()
    }
  })

  test('read-only scope: the provider is told readonly and its edits change nothing', async () => {
    const seed = await s.server.openDocument('ro/doc')
    await seed.transact((doc) => doc.getText('t').insert(0, 'fixed'))
    const socket = sharedSocket(s.url)
    const reader = hocuspocusProvider({ websocket: socket }, 'ro/doc', {
      token: await token({ 'ro/*': 'read' }),
    })
    const writer = hocuspocusProvider({ websocket: socket }, 'rw/doc', {
      token: await token({ 'rw/*': 'write' }),
    })
    try {
      await waitFor(() => reader.provider.isSynced && writer.provider.isSynced, 'both sync')
      assert.equal(reader.scope(), 'readonly')
      assert.equal(writer.scope(), 'read-write')
      assert.equal(reader.text.toString(), 'fixed')
      reader.text.insert(0, 'vandal ')
      writer.text.insert(0, 'mine')
      await roundTrip(s, reader, 'ro/doc')
      assert.equal(seed.doc.getText('t').toString(), 'fixed')
      await waitFor(() => writer.provider.unsyncedChanges === 0, "the writer's edit saved")
      assert.equal(s.server.registry.get('rw/doc')?.doc.getText('t').toString(), 'mine')
    } finally {
      seed.release()
      reader.destroy()
      writer.destroy()
      socket.destroy()
    }
  })
})

describe("Hocuspocus providers with the embedder's authenticate hook", () => {
  test('the hook decides per document; a refusal leaves the others on the socket alone', async () => {
    const s = await startServer({
      auth: {
        authenticate: (given, room) => {
          if (given !== 'letmein') throw new AuthError(4401, 'unknown token')
          if (room.startsWith('hook/rw')) return { userId: 'ada', access: 'write' }
          if (room.startsWith('hook/ro')) return { userId: 'ada', access: 'read' }
          return null
        },
      },
    })
    const socket = sharedSocket(s.url)
    const rw = hocuspocusProvider({ websocket: socket }, 'hook/rw', { token: 'letmein' })
    const ro = hocuspocusProvider({ websocket: socket }, 'hook/ro', { token: 'letmein' })
    const none = hocuspocusProvider({ websocket: socket }, 'hook/none', { token: 'letmein' })
    const wrong = hocuspocusProvider({ websocket: socket }, 'hook/rw2', { token: 'guess' })
    try {
      await waitFor(() => rw.provider.isSynced && ro.provider.isSynced, 'the admitted ones sync')
      await waitFor(() => none.denied.length === 1 && wrong.denied.length === 1, 'the others are told')
      assert.deepEqual([rw.scope(), ro.scope()], ['read-write', 'readonly'])
      assert.deepEqual([none.denied[0], wrong.denied[0]], ['no access to hook/none', 'unknown token'])
      rw.text.insert(0, 'still fine')
      await waitFor(() => rw.provider.unsyncedChanges === 0, 'the admitted document saves')
    } finally {
      for (const client of [rw, ro, none, wrong]) client.destroy()
      socket.destroy()
      await s.stop()
    }
  })
})

describe('Hocuspocus saved means saved', () => {
  test('the sync status for an update comes only once it is durable', async () => {
    const dataDir = tempDir()
    const store = new GatedStore(dataDir)
    const s = await startServer({ store }, dataDir)
    const client = hocuspocusProvider({ url: s.url }, 'gated/doc')
    try {
      await waitFor(() => client.provider.isSynced && client.provider.unsyncedChanges === 0, 'sync')
      store.gated = true
      client.text.insert(0, 'unsaved yet')
      await waitFor(() => store.held.length > 0, 'its write to be held')
      await roundTrip(s, client, 'gated/doc')
      assert.equal(s.server.registry.get('gated/doc')?.doc.getText('t').toString(), 'unsaved yet')
      assert.equal(client.provider.unsyncedChanges, 1, 'no acknowledgement while the write is held')
      store.openGate()
      await waitFor(() => client.provider.unsyncedChanges === 0, 'the acknowledgement once written')
    } finally {
      client.destroy()
      store.openGate()
      await s.stop()
      removeDir(dataDir)
    }
  })

  test('a failed write closes the socket unacknowledged; the provider reconnects and its edit is saved', async () => {
    const dataDir = tempDir()
    const store = new GatedStore(dataDir)
    const s = await startServer({ store }, dataDir)
    const writer = hocuspocusProvider({ url: s.url }, 'fail/doc')
    const observer = hocuspocusProvider({ url: s.url }, 'fail/doc')
    const closes: number[] = []
    writer.provider.on('close', ({ event }: { event: { code: number } }) => closes.push(event.code))
    try {
      await waitFor(() => writer.provider.isSynced && observer.provider.isSynced, 'sync')
      store.failNextWrite = true
      writer.text.insert(0, 'must survive')
      await waitFor(() => closes.includes(1011), 'the writer closed with 1011')
      assert.ok(writer.provider.unsyncedChanges > 0, 'never acknowledged')
      assert.equal(observer.text.toString(), '', 'the unwritten edit reached no one')
      await waitFor(() => observer.text.toString() === 'must survive', 'the edit after the reconnect', 20_000)
      await waitFor(() => writer.provider.unsyncedChanges === 0, 'acknowledged once written')
    } finally {
      writer.destroy()
      observer.destroy()
      await s.stop().catch(() => {})
      removeDir(dataDir)
    }
  })

  test('kill -9 loses no acknowledged change', async () => {
    const plait = new PlaitProcess(await freePort())
    await plait.start()
    const writer = hocuspocusProvider({ url: plait.wsUrl }, 'crash/doc')
    let reader: HpClient | null = null
    try {
      await waitFor(() => writer.provider.isSynced, 'sync')
      for (let i = 0; i < 20; i++) writer.text.insert(writer.text.length, `${i},`)
      await waitFor(() => writer.provider.unsyncedChanges === 0, 'every edit acknowledged')
      const acknowledged = writer.text.toString()
      await plait.crash()
      writer.destroy()
      await plait.start()
      reader = hocuspocusProvider({ url: plait.wsUrl }, 'crash/doc')
      const r = reader
      await waitFor(() => r.provider.isSynced, 'sync after the restart')
      assert.equal(r.text.toString(), acknowledged)
    } finally {
      writer.destroy()
      reader?.destroy()
      await plait.dispose()
    }
  })
})
