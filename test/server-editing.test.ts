// Server-side editing through the embedding API: openDocument works on rooms nobody is connected to,
// and an edit is stored and broadcast like any client's, with the server as its origin.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Origin } from '../server/documents/origin.js'
import { connectProvider, synced, waitFor } from './helpers/clients.js'
import { removeDir, startServer } from './helpers/server.js'
import { readStored } from './helpers/stored.js'

describe('server-side editing', () => {
  test('an edit of a room nobody is connected to is durable when transact resolves, and survives a restart', async () => {
    const s = await startServer()
    const origins: Origin[][] = []
    s.server.events.on('changed', ({ room, origins: by }) => {
      if (room === 'daily/2026-12-01') origins.push([...by])
    })
    const handle = await s.server.openDocument('daily/2026-12-01')
    await handle.transact((doc) => doc.getText('t').insert(0, 'appended by the server'))
    assert.deepEqual(origins, [[{ kind: 'server' }]], 'the change is announced with the server as its origin')
    handle.release()
    await s.stop()
    const { text } = await readStored(s.dataDir, 'daily/2026-12-01')
    assert.equal(text, 'appended by the server')
    removeDir(s.dataDir)
  })

  test('a connected client receives a server edit, and the server sees the client edit in its handle', async () => {
    const s = await startServer()
    const client = connectProvider(s.url, 'shared')
    try {
      await synced(client)
      const handle = await s.server.openDocument('shared')
      await handle.transact((doc) => doc.getText('t').insert(0, 'from the server'))
      await waitFor(() => client.text.toString() === 'from the server', 'the client to receive the edit')
      client.text.insert(client.text.length, ', and the client')
      await waitFor(
        () => handle.doc.getText('t').toString() === 'from the server, and the client',
        'the handle to follow the client',
      )
      handle.release()
      await assert.rejects(() => handle.transact(() => {}), /released/)
    } finally {
      client.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('a held room is not unloaded while idle; released, it is', async () => {
    const s = await startServer({ tuning: { roomIdleMs: 50 } })
    const unloaded: string[] = []
    s.server.events.on('unloaded', ({ room }) => unloaded.push(room))
    try {
      const held = await s.server.openDocument('held')
      await held.transact((doc) => doc.getMap('m').set('k', 1))
      const other = await s.server.openDocument('other')
      other.release()
      await waitFor(() => unloaded.includes('other'), 'the released room to unload')
      assert.ok(!unloaded.includes('held'), 'the held room stayed loaded')
      held.release()
      await waitFor(() => unloaded.includes('held'), 'the held room to unload once released')
      await assert.rejects(() => s.server.openDocument('bad\u0001name'), /control characters/)
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})
