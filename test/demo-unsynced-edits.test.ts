// The demo's "not yet on the server" count, checked at the protocol level against the real plait server:
// it reaches zero only when the server has the edits — even if the server crashes right after.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { UnsyncedEdits } from '../web-demo/src/shared/unsynced-edits.js'
import { freePort, PlaitProcess } from './helpers/plait-process.js'

const waitMs = 15_000

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + waitMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

interface Tracked {
  doc: Y.Doc
  provider: WebsocketProvider
  unsynced: UnsyncedEdits
}

const providers: WebsocketProvider[] = []

function open(url: string, room: string): Tracked {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, {
    connect: false,
    disableBc: true,
    // y-websocket types its polyfill as the DOM WebSocket; the ws class provides what it uses
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
  })
  provider.awareness.setLocalStateField('user', { name: room })
  const unsynced = new UnsyncedEdits(doc, provider, `test:${room}`)
  provider.connect()
  providers.push(provider)
  return { doc, provider, unsynced }
}

describe('counting edits the server has not confirmed', () => {
  let plait: PlaitProcess
  let wsUrl: string

  before(async () => {
    plait = new PlaitProcess(await freePort())
    await plait.start()
    wsUrl = plait.url.replace('http', 'ws')
  })

  after(async () => {
    for (const provider of providers.splice(0)) {
      provider.destroy()
      // the awareness timer lives until its document is destroyed
      provider.doc.destroy()
    }
    await plait?.dispose()
  })

  test('edits while connected are counted, then confirmed by the server', async () => {
    const writer = open(wsUrl, 'count-online')
    await waitFor(() => writer.provider.synced && !writer.unsynced.handshaking, 'synced')
    const text = writer.doc.getText('notes')
    for (const word of ['one ', 'two ', 'three ']) text.insert(text.length, word)
    assert.equal(writer.unsynced.count, 3, 'three local edits, none confirmed yet')
    await waitFor(() => writer.unsynced.count === 0, 'the server confirming them')
  })

  test('edits made while the server is down stay counted until it is back and has them', async () => {
    const room = 'count-offline'
    const writer = open(wsUrl, room)
    await waitFor(() => writer.provider.synced && writer.unsynced.count === 0, 'synced')
    const text = writer.doc.getText('notes')
    text.insert(0, 'before. ')
    await waitFor(() => writer.unsynced.count === 0, 'first edit confirmed')

    await plait.stop()
    await waitFor(() => !writer.provider.wsconnected, 'the provider noticing')
    let failedAttempts = 0
    const countAttempt = () => failedAttempts++
    writer.provider.on('connection-close', countAttempt)
    text.insert(text.length, 'typed while the server was down')
    assert.equal(writer.unsynced.count, 1)
    // nobody confirms anything while the server is away: not even the reconnect attempts that fail
    await waitFor(() => failedAttempts >= 2, 'two reconnect attempts to fail')
    writer.provider.off('connection-close', countAttempt)
    assert.equal(writer.unsynced.count, 1)

    await plait.start()
    await waitFor(() => writer.unsynced.count === 0, 'the offline edit confirmed after the restart')
    // confirmed means the server has it: crash it at once, start again, and a newcomer still gets the edit
    await plait.crash()
    await plait.start()
    const reader = open(wsUrl, room)
    await waitFor(() => reader.provider.synced, 'newcomer synced')
    await waitFor(
      () => reader.doc.getText('notes').toString() === 'before. typed while the server was down',
      'the confirmed edits at a newcomer after a crash',
    )
  })
})
