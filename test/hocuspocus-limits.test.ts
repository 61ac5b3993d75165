// The bounds of a Hocuspocus socket: documents per socket, the auth deadline of a socket and of one
// document's verdict, and the queue of frames waiting for verdicts, bounded for the whole socket.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as encoding from 'lib0/encoding'
import { encodeDocumentName, withDocumentName } from '../server/protocol/hocuspocus.js'
import { encodeUpdate } from '../server/protocol/messages.js'
import { waitFor } from './helpers/clients.js'
import { hocuspocusProvider, RawHocuspocusClient, sharedSocket } from './helpers/hocuspocus.js'
import { startServer } from './helpers/server.js'

function tokenFrame(name: string, value: string): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarString(e, name)
  encoding.writeVarUint(e, 2)
  encoding.writeVarUint(e, 0)
  encoding.writeVarString(e, value)
  return encoding.toUint8Array(e)
}

describe('Hocuspocus socket limits', () => {
  test('past --max-documents-per-socket a new document is refused, the others carry on', async () => {
    const s = await startServer({ limits: { maxDocumentsPerSocket: 2 } })
    const socket = sharedSocket(s.url)
    const clients = ['lim/1', 'lim/2', 'lim/3'].map((name) => hocuspocusProvider({ websocket: socket }, name))
    try {
      await waitFor(() => clients[0].provider.isSynced && clients[1].provider.isSynced, 'two documents sync')
      await waitFor(() => clients[2].denied.length === 1, 'the third is refused')
      assert.match(clients[2].denied[0], /max-documents-per-socket/)
      clients[0].provider.detach()
      // A refused provider stays attached: detaching and attaching again sends its token again.
      clients[2].provider.detach()
      clients[2].provider.attach()
      await waitFor(() => clients[2].provider.isSynced, 'room again once one detached')
    } finally {
      for (const client of clients) client.destroy()
      socket.destroy()
      await s.stop()
    }
  })

  test('a socket with no document admitted in time is closed with 4408', async () => {
    const s = await startServer({ auth: { secret: 'x'.repeat(40), timeoutMs: 300 } })
    const raw = new RawHocuspocusClient(s.url)
    try {
      await raw.opened
      raw.send(tokenFrame('nobody/doc', 'not-a-jwt'))
      await waitFor(() => raw.closeCode !== null, 'the close')
      assert.equal(raw.closeCode, 4408)
      assert.deepEqual(
        raw.received.map((r) => r.message.kind),
        ['permission-denied'],
      )
    } finally {
      raw.close()
      await s.stop()
    }
  })

  test('a verdict that never comes refuses its document; frames waiting for verdicts are bounded per socket', async () => {
    const never = new Promise<never>(() => {})
    const s = await startServer({
      auth: {
        timeoutMs: 400,
        authenticate: (token) => (token === 'ok' ? { userId: 'u', access: 'write' } : never),
      },
      limits: { preAuthMaxBytes: 100 * 1024 },
    })
    const hung = new RawHocuspocusClient(s.url)
    const flood = new RawHocuspocusClient(s.url)
    try {
      await Promise.all([hung.opened, flood.opened])
      hung.send(tokenFrame('ok/doc', 'ok'))
      hung.send(tokenFrame('hang/doc', 'hang'))
      await waitFor(() => hung.of('hang/doc').length === 1, 'the hung document refused')
      assert.deepEqual(hung.of('hang/doc'), [
        { kind: 'permission-denied', reason: 'no verdict on the token in time; try again' },
      ])
      assert.equal(hung.closeCode, null, 'the socket had a document admitted')
      // Two documents waiting on the hung hook, neither past twice the bound alone, together past it.
      for (const [name, kib] of [
        ['hang/a', 90],
        ['hang/b', 120],
      ] as const) {
        flood.send(tokenFrame(name, 'hang'))
        flood.send(withDocumentName(encodeDocumentName(name), encodeUpdate(new Uint8Array(kib * 1024))))
      }
      await waitFor(() => flood.closeCode !== null, 'the flooding socket closed')
      assert.equal(flood.closeCode, 4429)
    } finally {
      hung.close()
      flood.close()
      await s.stop()
    }
  })
})
