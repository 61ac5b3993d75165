// Server-side editing through the embedding API: openDocument works on rooms nobody is connected to,
// and an edit is stored and broadcast like any client's, with the server as its origin.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import WebSocket from 'ws'
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

describe('attached to an existing http.Server', () => {
  test('plait takes only the upgrades under its prefix; the app keeps its routes, its server and other sockets', async () => {
    const { createServer: createHttpServer } = await import('node:http')
    const { WebSocketServer } = await import('ws')
    const { createServer } = await import('../server/server.js')
    const { createLogger } = await import('../server/logger.js')
    const { LogCapture, tempDir } = await import('./helpers/server.js')
    const app = createHttpServer((req, res) => {
      if (req.url === '/hello') res.end('hello from the app')
      else if (req.url?.startsWith('/collab/')) {
        req.url = req.url.slice('/collab'.length)
        plait.handleRequest(req, res)
      } else res.writeHead(404).end()
    })
    const others = new WebSocketServer({ noServer: true })
    app.on('upgrade', (req, socket, head) => {
      if (req.url === '/other') others.handleUpgrade(req, socket, head, (ws) => ws.send('other socket'))
    })
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
    const client = connectProvider(`ws://127.0.0.1:${port}/collab`, 'team/notes')
    try {
      await synced(client)
      client.text.insert(0, 'attached')
      const handle = await plait.openDocument('team/notes')
      await waitFor(() => handle.doc.getText('t').toString() === 'attached', 'the edit to reach plait')
      handle.release()
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/hello`)).text(), 'hello from the app')
      assert.equal((await fetch(`http://127.0.0.1:${port}/collab/healthz`)).status, 200)
      const other = new WebSocket(`ws://127.0.0.1:${port}/other`)
      const message = await new Promise<string>((resolve) => other.once('message', (m) => resolve(String(m))))
      assert.equal(message, 'other socket')
      other.close()
      client.destroy()
      await plait.close()
      assert.equal(
        await (await fetch(`http://127.0.0.1:${port}/hello`)).text(),
        'hello from the app',
        'the app server still runs',
      )
    } finally {
      client.destroy()
      await plait.close()
      others.close()
      await new Promise((r) => app.close(r))
      removeDir(dataDir)
    }
  })
})
