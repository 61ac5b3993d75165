// The v3 @hocuspocus/provider (installed as @hocuspocus/provider-v3), unchanged, on plait's base URL:
// convergence, with a v4 provider and a y-websocket provider on one document, tokens and read-only scope,
// several documents over one shared v3 socket, and the saved acknowledgement.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import * as V3 from '@hocuspocus/provider-v3'
import { mintToken } from '../server/cli/token-command.js'
import { decodeHocuspocusServerFrame, type HocuspocusServerMessage } from '../server/protocol/hocuspocus.js'
import { connectProvider, synced, waitFor } from './helpers/clients.js'
import { type HpClient, hocuspocusClients, hocuspocusProvider } from './helpers/hocuspocus.js'
import { startServer, type TestServer } from './helpers/server.js'

const v3 = hocuspocusClients(V3)
type V3Client = HpClient<V3.HocuspocusProvider>

const SECRET = 'test-secret-that-is-long-enough-for-hs256'
const token = (docs: Record<string, 'read' | 'write'>) =>
  mintToken({ secret: SECRET, sub: 'ada', docs, ttlSeconds: 600 })

const isSynced = (...clients: { provider: { isSynced: boolean } }[]) =>
  clients.every((c) => c.provider.isSynced)
const names = (states: Map<number, Record<string, { name?: string }>> | undefined) =>
  [...(states?.values() ?? [])]
    .map((state) => state.user?.name)
    .sort()
    .join()

/** Every frame a v3 provider is handed, decoded. */
function framesOf(client: V3Client): HocuspocusServerMessage[] {
  const seen: HocuspocusServerMessage[] = []
  client.provider.on('message', ({ event }: { event: MessageEvent }) => {
    seen.push(decodeHocuspocusServerFrame(new Uint8Array(event.data as ArrayBuffer)).message)
  })
  return seen
}

describe('v3 Hocuspocus providers', () => {
  let s: TestServer
  before(async () => {
    s = await startServer()
  })
  after(() => s.stop())

  test('the alias is the v3 provider, with its own v3 @hocuspocus/common', () => {
    const entry = import.meta.resolve('@hocuspocus/provider-v3')
    const version = (path: string) => JSON.parse(readFileSync(new URL(path, entry), 'utf8')).version
    assert.match(version('../package.json'), /^3\./)
    assert.match(version('../node_modules/@hocuspocus/common/package.json'), /^3\./)
  })

  test('two v3 providers converge, and an edit is acknowledged once saved', async () => {
    const a = v3.provider({ url: s.url }, 'hp3/converge')
    const b = v3.provider({ url: s.url }, 'hp3/converge')
    try {
      await waitFor(() => isSynced(a, b), 'both providers to sync')
      assert.equal(a.scope(), 'read-write')
      await waitFor(() => a.provider.unsyncedChanges === 0, 'the sync itself acknowledged')
      a.text.insert(0, 'hello ')
      b.text.insert(0, 'world ')
      await waitFor(
        () => a.text.length === 12 && a.text.toString() === b.text.toString(),
        'both edits on both sides',
      )
      await waitFor(
        () => a.provider.unsyncedChanges === 0 && !a.provider.hasUnsyncedChanges,
        "a's edit acknowledged",
      )
      await waitFor(() => b.provider.unsyncedChanges === 0, "b's edit acknowledged")
      assert.equal(s.server.registry.get('hp3/converge')?.doc.getText('t').toString(), a.text.toString())
    } finally {
      a.destroy()
      b.destroy()
    }
  })

  test('a v3 and a v4 provider edit one document, with awareness both ways', async () => {
    const old = v3.provider({ url: s.url }, 'hp3/mixed')
    const now = hocuspocusProvider({ url: s.url }, 'hp3/mixed')
    try {
      await waitFor(() => isSynced(old, now), 'both sync')
      old.text.insert(0, 'v3 ')
      now.text.insert(0, 'v4 ')
      await waitFor(
        () => old.text.length === 6 && old.text.toString() === now.text.toString(),
        'both edits in both',
      )
      old.provider.setAwarenessField('user', { name: 'three' })
      now.provider.setAwarenessField('user', { name: 'four' })
      await waitFor(
        () =>
          names(old.provider.awareness?.getStates()) === 'four,three' &&
          names(now.provider.awareness?.getStates()) === 'four,three',
        'awareness across versions',
      )
    } finally {
      old.destroy()
      now.destroy()
    }
  })

  test('a v3 provider and a y-websocket provider edit one document and see each other', async () => {
    const hp = v3.provider({ url: s.url }, 'team/v3-notes')
    const yws = connectProvider(s.url, 'team/v3-notes')
    try {
      await waitFor(() => isSynced(hp), 'hocuspocus sync')
      await synced(yws)
      hp.text.insert(0, 'from tiptap ')
      yws.text.insert(0, 'from y-websocket ')
      await waitFor(
        () => hp.text.length === 29 && hp.text.toString() === yws.text.toString(),
        'both edits in both clients',
      )
      hp.provider.setAwarenessField('user', { name: 'hp3' })
      yws.provider.awareness.setLocalStateField('user', { name: 'yws' })
      await waitFor(
        () =>
          names(hp.provider.awareness?.getStates()) === 'hp3,yws' &&
          names(yws.provider.awareness.getStates()) === 'hp3,yws',
        'awareness across both families',
      )
    } finally {
      hp.destroy()
      yws.destroy()
    }
  })

  test('stateless messages go both ways', async () => {
    const heard: string[] = []
    const off = s.server.events.on('stateless', ({ room, payload }) => {
      if (room === 'hp3/stateless') heard.push(payload)
    })
    const a = v3.provider({ url: s.url }, 'hp3/stateless')
    try {
      await waitFor(() => isSynced(a), 'sync')
      a.provider.sendStateless('{"ping":3}')
      await waitFor(() => heard.length === 1, 'the stateless event')
      assert.equal(heard[0], '{"ping":3}')
      assert.equal(s.server.sendStateless('hp3/stateless', 'pong'), 1)
      await waitFor(() => a.stateless.includes('pong'), 'the provider hears it')
    } finally {
      off()
      a.destroy()
    }
  })

  test('one shared v3 socket carries several documents; detaching one leaves the others', async () => {
    const socket = v3.sharedSocket(s.url)
    const notes = ['hp3/multi/1', 'hp3/multi/2'].map((name) => v3.provider({ websocket: socket }, name))
    const other = v3.provider({ url: s.url }, 'hp3/multi/2')
    try {
      await waitFor(() => isSynced(...notes, other), 'every document to sync')
      notes[0].text.insert(0, 'note 1')
      notes[1].text.insert(0, 'note 2')
      await waitFor(() => other.text.toString() === 'note 2', 'document 2 reaches its other client')
      await waitFor(
        () => s.server.registry.get('hp3/multi/1')?.doc.getText('t').toString() === 'note 1',
        'document 1 stored',
      )
      notes[0].provider.detach()
      await waitFor(() => s.server.registry.get('hp3/multi/1')?.size === 0, 'document 1 left its room')
      other.text.insert(other.text.length, '!')
      await waitFor(() => notes[1].text.toString() === 'note 2!', 'document 2 still live on the socket')
      notes[0].provider.attach()
      await waitFor(() => s.server.registry.get('hp3/multi/1')?.size === 1, 'document 1 back')
      notes[0].text.insert(0, '>')
      await waitFor(
        () => s.server.registry.get('hp3/multi/1')?.doc.getText('t').toString() === '>note 1',
        'document 1 edits again after re-attaching',
      )
    } finally {
      for (const note of notes) note.destroy()
      socket.destroy()
      other.destroy()
    }
  })
})

describe('v3 Hocuspocus providers with tokens', () => {
  let s: TestServer
  before(async () => {
    s = await startServer({ auth: { secret: SECRET } })
  })
  after(() => s.stop())

  test('a valid token syncs; a bad one gets authenticationFailed and no byte of the document', async () => {
    const seed = await s.server.openDocument('vault3/a')
    await seed.transact((doc) => doc.getText('t').insert(0, 'secret'))
    seed.release()
    const good = v3.provider({ url: s.url }, 'vault3/a', { token: await token({ 'vault3/*': 'write' }) })
    const bad = v3.provider({ url: s.url }, 'vault3/a', { token: 'not-a-jwt' })
    const badFrames = framesOf(bad)
    try {
      await waitFor(() => good.provider.isSynced && good.text.toString() === 'secret', 'the good one syncs')
      assert.equal(good.scope(), 'read-write')
      await waitFor(() => bad.denied.length === 1, 'the bad one is told')
      assert.match(bad.denied[0], /malformed|invalid/)
      assert.equal(bad.text.toString(), '')
      assert.equal(bad.provider.isSynced, false)
      assert.equal(bad.provider.isAuthenticated, false)
      assert.deepEqual(
        badFrames.map((m) => m.kind),
        ['permission-denied'],
      )
    } finally {
      good.destroy()
      bad.destroy()
    }
  })

  test('read-only scope: the v3 provider is told readonly and its edits change nothing', async () => {
    const seed = await s.server.openDocument('ro3/doc')
    await seed.transact((doc) => doc.getText('t').insert(0, 'fixed'))
    const socket = v3.sharedSocket(s.url)
    const reader = v3.provider({ websocket: socket }, 'ro3/doc', { token: await token({ 'ro3/*': 'read' }) })
    const writer = v3.provider({ websocket: socket }, 'rw3/doc', { token: await token({ 'rw3/*': 'write' }) })
    const readerFrames = framesOf(reader)
    try {
      await waitFor(() => reader.provider.isSynced && writer.provider.isSynced, 'both sync')
      assert.equal(reader.scope(), 'readonly')
      assert.equal(writer.scope(), 'read-write')
      assert.equal(reader.text.toString(), 'fixed')
      const statuses = () => readerFrames.filter((m) => m.kind === 'sync-status')
      const before = statuses().length
      reader.text.insert(0, 'vandal ')
      writer.text.insert(0, 'mine')
      // The read-only edit is answered "not applied", so the reader's count never reaches 0 for it.
      await waitFor(() => statuses().length > before, "the reader's update answered")
      assert.deepEqual(statuses().at(-1), { kind: 'sync-status', saved: false })
      assert.ok(reader.provider.hasUnsyncedChanges)
      assert.equal(seed.doc.getText('t').toString(), 'fixed')
      await waitFor(() => writer.provider.unsyncedChanges === 0, "the writer's edit saved")
      assert.equal(s.server.registry.get('rw3/doc')?.doc.getText('t').toString(), 'mine')
    } finally {
      seed.release()
      reader.destroy()
      writer.destroy()
      socket.destroy()
    }
  })
})
