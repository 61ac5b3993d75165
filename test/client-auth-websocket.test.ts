// The client helper against the real plait server: a stock y-websocket provider in Node, given the helper's
// WebSocket class, authenticates with a token, learns its scope, and stops on a refusal.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { SignJWT } from 'jose'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import {
  type AuthRefused,
  type AuthScope,
  createAuthWebSocket,
  shouldReconnect,
  type TokenSource,
} from '../client/index.js'
import { freePort, PlaitProcess } from './helpers/plait-process.js'

const secret = 'client-test-secret-0123456789abcdef0123'
const waitMs = 10_000

async function mint(docs: Record<string, 'read' | 'write'>, ttlSeconds = 300): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ docs })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('client-test')
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(secret))
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + waitMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

interface Client {
  doc: Y.Doc
  provider: WebsocketProvider
  scopes: AuthScope[]
  errors: AuthRefused[]
  /** Sockets the provider opened (one per connection attempt). */
  sockets: () => number
}

const clients: Client[] = []

function connect(url: string, room: string, token?: TokenSource): Client {
  const doc = new Y.Doc()
  const scopes: AuthScope[] = []
  const errors: AuthRefused[] = []
  let sockets = 0
  // count constructions by wrapping the base class the helper is given
  class CountingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols)
      sockets++
    }
  }
  const WebSocketPolyfill = createAuthWebSocket({
    token,
    WebSocket: CountingWebSocket,
    onAuthenticated: (scope) => scopes.push(scope),
    onAuthError: (error) => errors.push(error),
  })
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill,
    shouldReconnect,
    disableBc: true,
  })
  const client = { doc, provider, scopes, errors, sockets: () => sockets }
  clients.push(client)
  return client
}

function destroyClients(): void {
  for (const client of clients.splice(0)) {
    client.provider.destroy()
    // the awareness timer lives until its document is destroyed
    client.doc.destroy()
  }
}

describe('the client auth helper with a plait server that requires tokens', () => {
  let plait: PlaitProcess

  before(async () => {
    plait = new PlaitProcess(await freePort(), ['--auth-secret', secret])
    await plait.start()
  })

  after(async () => {
    destroyClients()
    await plait?.dispose()
  })

  test('a valid token admits the provider read-write and its edits reach another client', async () => {
    const wsUrl = plait.url.replace('http', 'ws')
    const token = await mint({ 'notes/*': 'write' })
    const ada = connect(wsUrl, 'notes/one', token)
    const bob = connect(wsUrl, 'notes/one', token)
    await waitFor(() => ada.provider.synced && bob.provider.synced, 'both synced')
    assert.deepEqual(ada.scopes, ['read-write'])
    ada.doc.getText('t').insert(0, 'hello from ada')
    await waitFor(() => bob.doc.getText('t').toString() === 'hello from ada', "ada's edit at bob")
  })

  test('a read-only token is reported as readonly', async () => {
    const wsUrl = plait.url.replace('http', 'ws')
    const viewer = connect(wsUrl, 'notes/two', await mint({ 'notes/two': 'read' }))
    await waitFor(() => viewer.scopes.length > 0, 'a scope')
    assert.deepEqual(viewer.scopes, ['readonly'])
    await waitFor(() => viewer.provider.synced, 'viewer synced')
  })

  test('a bad token ends in one 4401 with the reason, and the provider does not retry', async () => {
    const wsUrl = plait.url.replace('http', 'ws')
    const forged = `${(await mint({ 'notes/*': 'write' })).slice(0, -4)}AAAA`
    const mallory = connect(wsUrl, 'notes/three', forged)
    await waitFor(() => mallory.errors.length > 0, 'an auth error')
    assert.equal(mallory.errors[0]?.code, 4401)
    assert.match(mallory.errors[0]?.reason ?? '', /signature|invalid/)
    // y-websocket's backoff would have retried several times within 1.5 s
    await new Promise((resolve) => setTimeout(resolve, 1500))
    assert.equal(mallory.sockets(), 1)
    assert.equal(mallory.errors.length, 1)
    assert.equal(mallory.provider.synced, false)
  })

  test('a token for another room ends in 4403', async () => {
    const wsUrl = plait.url.replace('http', 'ws')
    const outsider = connect(wsUrl, 'private/board', await mint({ 'notes/*': 'write' }))
    await waitFor(() => outsider.errors.length > 0, 'an auth error')
    assert.equal(outsider.errors[0]?.code, 4403)
    // a window for a retry that must not come (the backoff's first retry is well inside it)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    assert.equal(outsider.sockets(), 1)
  })

  test('the token function runs on every connect, so a reconnect carries a fresh token', async () => {
    const wsUrl = plait.url.replace('http', 'ws')
    let calls = 0
    const client = connect(wsUrl, 'notes/four', async () => {
      calls++
      // the first token is already expired: the helper must ask again on the next connection
      return calls === 1 ? mint({ 'notes/four': 'write' }, -60) : mint({ 'notes/four': 'write' })
    })
    await waitFor(() => client.errors.length > 0, 'the expired token refused')
    assert.equal(client.errors[0]?.code, 4401)
    assert.match(client.errors[0]?.reason ?? '', /expired/)
    // the app reacts to the refusal by connecting again; the helper fetches a new token
    client.provider.connect()
    await waitFor(() => client.provider.synced, 'synced with the refreshed token')
    assert.equal(calls, 2)
    assert.deepEqual(client.scopes, ['read-write'])
    // a dropped connection reconnects on its own and asks for a token again
    client.provider.ws?.close()
    await waitFor(() => calls === 3 && client.provider.synced, 'reconnected with a third token')
    assert.deepEqual(client.scopes, ['read-write', 'read-write'])
  })
})

describe('the client auth helper with an open-mode plait server', () => {
  let plait: PlaitProcess

  before(async () => {
    plait = new PlaitProcess(await freePort())
    await plait.start()
  })

  after(async () => {
    destroyClients()
    await plait?.dispose()
  })

  test('without a token it sends nothing extra and syncs as a stock provider would', async () => {
    const wsUrl = plait.url.replace('http', 'ws')
    const ada = connect(wsUrl, 'open-room')
    const bob = connect(wsUrl, 'open-room')
    await waitFor(() => ada.provider.synced && bob.provider.synced, 'both synced')
    bob.doc.getText('t').insert(0, 'open mode works')
    await waitFor(() => ada.doc.getText('t').toString() === 'open mode works', "bob's edit at ada")
    assert.deepEqual(ada.scopes, [])
    assert.deepEqual(ada.errors, [])
  })

  test('frames the server sends before a slow token function returns are delivered after open, in order', async () => {
    const wsUrl = plait.url.replace('http', 'ws')
    const writer = connect(wsUrl, 'open-slow')
    writer.doc.getText('t').insert(0, 'already here')
    await waitFor(() => writer.provider.synced, 'writer synced')
    // an open server speaks first (sync step 1, awareness) while this app is still deciding on a token
    const late = connect(wsUrl, 'open-slow', async () => {
      // a slow token function, the subject of this test (not synchronisation)
      await new Promise((resolve) => setTimeout(resolve, 300))
      return null
    })
    await waitFor(() => late.provider.synced, 'synced despite the early frames')
    assert.equal(late.doc.getText('t').toString(), 'already here')
    assert.equal(late.sockets(), 1)
  })
})
