// The document core's events, as an embedder subscribes to them: every change is announced once it is
// durable, with who made it.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import WebSocket from 'ws'
import { createAuthWebSocket } from '../client/index.js'
import { mintToken } from '../server/cli/token-command.js'
import type { DocumentEventMap } from '../server/documents/events.js'
import { connectProvider, synced, waitFor } from './helpers/clients.js'
import { removeDir, startServer } from './helpers/server.js'

describe('document events', () => {
  test('a change is announced after it is stored, with the connection and verified user that made it', async () => {
    const secret = 'events-secret-events-secret-events'
    const s = await startServer({ auth: { secret } })
    const token = await mintToken({ secret, sub: 'ada', docs: { 'notes/*': 'write' }, ttlSeconds: 600 })
    const changes: (DocumentEventMap['changed'] & { storedBefore: number })[] = []
    const seen: string[] = []
    s.server.events.on('changed', (event) =>
      changes.push({ ...event, storedBefore: s.server.metrics.updatesPersisted }),
    )
    s.server.events.on('connected', ({ room, origin }) =>
      seen.push(`connected ${room} ${JSON.stringify(origin)}`),
    )
    s.server.events.on('loaded', ({ room }) => seen.push(`loaded ${room}`))
    const ada = connectProvider(s.url, 'notes/today', {
      WebSocketPolyfill: createAuthWebSocket({ token, WebSocket }),
    })
    try {
      await synced(ada)
      ada.text.insert(0, 'hello')
      await waitFor(() => changes.length > 0, 'the change event')
      const [change] = changes
      assert.equal(change.room, 'notes/today')
      assert.equal(change.origins.length, 1)
      const origin = change.origins[0]
      assert.equal(origin.kind, 'client')
      assert.equal(origin.kind === 'client' && origin.userId, 'ada')
      assert.ok(change.storedBefore >= 1, 'the change was on disk before it was announced')
      const { doc } = await import('yjs').then((Y) => {
        const d = new Y.Doc()
        for (const c of changes) Y.applyUpdate(d, c.update)
        return { doc: d }
      })
      assert.equal(doc.getText('t').toString(), 'hello', 'the announced updates are the change')
      assert.ok(seen.includes('loaded notes/today'))
      assert.ok(
        seen.some((line) => line.startsWith('connected notes/today') && line.includes('"userId":"ada"')),
      )
    } finally {
      ada.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('a listener that throws is logged and the room carries on', async () => {
    const s = await startServer()
    s.server.events.on('changed', () => {
      throw new Error('a broken hook')
    })
    const a = connectProvider(s.url, 'sturdy')
    const b = connectProvider(s.url, 'sturdy')
    try {
      await synced(a, b)
      a.text.insert(0, 'one')
      await waitFor(() => b.text.toString() === 'one', 'the edit to arrive anyway')
      b.text.insert(3, ' two')
      await waitFor(() => a.text.toString() === 'one two', 'the room to keep working')
      assert.ok(s.logs.lines.some((l) => l.msg === 'a document event listener threw; the room carries on'))
    } finally {
      a.destroy()
      b.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})
