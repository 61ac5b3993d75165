// The HTTP document API in open mode, over real HTTP: list, read in three formats, POST an update that
// live clients receive, refusals that change nothing, DELETE, and the OpenAPI description.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as Y from 'yjs'
import { connectProvider, RawClient, sleep, synced, waitFor } from './helpers/clients.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'

const path = (room: string, rest = '') => `/api/docs/${encodeURIComponent(room)}${rest}`

function post(s: TestServer, room: string, body: Uint8Array, type = 'application/octet-stream') {
  return fetch(`${s.http}${path(room, '/updates')}`, {
    method: 'POST',
    body: body as Uint8Array<ArrayBuffer>,
    headers: { 'Content-Type': type },
  })
}

async function stateOf(s: TestServer, room: string): Promise<Y.Doc> {
  const response = await fetch(`${s.http}${path(room)}`)
  assert.equal(response.status, 200)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, new Uint8Array(await response.arrayBuffer()))
  return doc
}

/** A document with one of each root type, as one update. */
function richUpdate(): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('body').insert(0, 'hello')
  doc.getMap('meta').set('title', 'Plan')
  doc.getArray('tags').push(['a', 'b'])
  const paragraph = new Y.XmlElement('p')
  paragraph.insert(0, [new Y.XmlText('hi')])
  doc.getXmlFragment('prose').insert(0, [paragraph])
  return Y.encodeStateAsUpdate(doc)
}

async function assertError(response: Response, status: number, code: string): Promise<string> {
  assert.equal(response.status, status, `${response.url}: ${status}`)
  assert.match(response.headers.get('content-type') ?? '', /application\/json/)
  const body = await response.json()
  assert.equal(body.error, code)
  assert.equal(typeof body.message, 'string')
  return body.message
}

describe('the document API in open mode', () => {
  let s: TestServer
  before(async () => {
    s = await startServer({ limits: { maxDocumentBytes: 64 * 1024 } })
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('a POSTed update is stored, a live stock provider receives it, and the answer is the new state vector', async () => {
    const client = connectProvider(s.url, 'posted')
    try {
      await synced(client)
      const doc = new Y.Doc()
      doc.getText('t').insert(0, 'from HTTP')
      const response = await post(s, 'posted', Y.encodeStateAsUpdate(doc))
      assert.equal(response.status, 200)
      const body = await response.json()
      assert.equal(body.ok, true)
      await waitFor(() => client.text.toString() === 'from HTTP', 'the provider to receive the POSTed update')
      const stateVector = Y.decodeStateVector(new Uint8Array(Buffer.from(body.stateVector, 'base64')))
      assert.equal(stateVector.get(doc.clientID), 9)
      assert.equal((await stateOf(s, 'posted')).getText('t').toString(), 'from HTTP')
    } finally {
      client.destroy()
    }
  })

  test('a malformed update is 400 and changes nothing', async () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'kept')
    assert.equal((await post(s, 'malformed', Y.encodeStateAsUpdate(doc))).status, 200)
    const before = s.server.metrics.updatesPersisted
    const good = Y.encodeStateAsUpdate(doc)
    for (const body of [
      new Uint8Array([1, 2, 3, 4, 5]),
      good.subarray(0, good.length - 3),
      new Uint8Array(),
    ]) {
      await assertError(await post(s, 'malformed', body), 400, 'malformed-update')
    }
    assert.equal(s.server.metrics.updatesPersisted, before, 'nothing was stored')
    assert.equal((await stateOf(s, 'malformed')).getText('t').toString(), 'kept')
  })

  test('an update whose dependencies are missing is 409 and nothing is stored', async () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'a')
    const base = Y.encodeStateVector(doc)
    doc.getText('t').insert(1, 'b')
    const before = s.server.metrics.updatesPersisted
    const message = await assertError(
      await post(s, 'gap', Y.encodeStateAsUpdate(doc, base)),
      409,
      'missing-dependencies',
    )
    assert.match(message, /nothing was stored/)
    assert.equal(s.server.metrics.updatesPersisted, before)
    assert.equal((await fetch(`${s.http}${path('gap')}`)).status, 404, 'the room still does not exist')
    // The whole state carries what was missing.
    assert.equal((await post(s, 'gap', Y.encodeStateAsUpdate(doc))).status, 200)
    assert.equal((await stateOf(s, 'gap')).getText('t').toString(), 'ab')
  })

  test('each kind of missing dependency is 409: a gap, an unknown origin, a deletion of unknown items', async () => {
    const author = new Y.Doc()
    author.getText('t').insert(0, 'known')
    assert.equal((await post(s, 'deps', Y.encodeStateAsUpdate(author))).status, 200)
    // An edit built on what the room has is accepted, wherever it lands.
    const reader = await stateOf(s, 'deps')
    const before = Y.encodeStateVector(reader)
    reader.getText('t').insert(2, '-')
    assert.equal((await post(s, 'deps', Y.encodeStateAsUpdate(reader, before))).status, 200)
    // Content the room never got, then edits that build on it.
    author.getText('t').insert(5, ' unsent')
    const unsent = Y.encodeStateVector(author)
    author.getText('t').insert(12, '?')
    const gap = Y.encodeStateAsUpdate(author, unsent)
    const other = new Y.Doc()
    Y.applyUpdate(other, Y.encodeStateAsUpdate(author))
    const otherBefore = Y.encodeStateVector(other)
    other.getText('t').insert(8, '!')
    author.getText('t').delete(6, 3)
    const cases: [string, Uint8Array][] = [
      ['a gap in its own clock', gap],
      ["an origin in another client's unsent content", Y.encodeStateAsUpdate(other, otherBefore)],
      ['a deletion of unsent content', Y.encodeStateAsUpdate(author, Y.encodeStateVector(author))],
    ]
    for (const [what, update] of cases) {
      await assertError(await post(s, 'deps', update), 409, 'missing-dependencies').catch((error) => {
        throw new Error(`${what}: ${error.message}`)
      })
    }
    assert.equal((await stateOf(s, 'deps')).getText('t').toString(), 'kn-own')
  })

  test('an update over --max-document-size is 413; a body that is not octet-stream is 415', async () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'x'.repeat(70 * 1024))
    await assertError(await post(s, 'big', Y.encodeStateAsUpdate(doc)), 413, 'too-large')
    await assertError(await post(s, 'big', richUpdate(), 'application/json'), 415, 'unsupported-media-type')
    assert.equal((await fetch(`${s.http}${path('big')}`)).status, 404)
  })

  test('a read answers one update, JSON of every root type, or the plain text of one Y.Text', async () => {
    assert.equal((await post(s, 'formats', richUpdate())).status, 200)
    const update = await fetch(`${s.http}${path('formats')}`)
    assert.equal(update.headers.get('content-type'), 'application/octet-stream')
    const doc = new Y.Doc()
    Y.applyUpdate(doc, new Uint8Array(await update.arrayBuffer()))
    assert.equal(doc.getText('body').toString(), 'hello')
    const json = await fetch(`${s.http}${path('formats', '?format=json')}`)
    assert.deepEqual(await json.json(), {
      body: 'hello',
      meta: { title: 'Plan' },
      prose: '<p>hi</p>',
      tags: ['a', 'b'],
    })
    const text = await fetch(`${s.http}${path('formats', '?format=text&name=body')}`)
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain/)
    assert.equal(await text.text(), 'hello')
    assert.equal(await (await fetch(`${s.http}${path('formats', '?format=text&name=none')}`)).text(), '')
    await assertError(
      await fetch(`${s.http}${path('formats', '?format=text&name=meta')}`),
      400,
      'bad-request',
    )
    await assertError(await fetch(`${s.http}${path('formats', '?format=text')}`), 400, 'bad-request')
    await assertError(await fetch(`${s.http}${path('formats', '?format=xml')}`), 400, 'bad-request')
  })

  test('root types named like Object.prototype keys come back as JSON properties of their own', async () => {
    const doc = new Y.Doc()
    doc.getText('__proto__').insert(0, 'proto')
    doc.getMap('constructor').set('k', 1)
    assert.equal((await post(s, 'protos', Y.encodeStateAsUpdate(doc))).status, 200)
    const body = await (await fetch(`${s.http}${path('protos', '?format=json')}`)).text()
    const json = JSON.parse(body)
    assert.ok(Object.hasOwn(json, '__proto__'))
    assert.equal(Object.getOwnPropertyDescriptor(json, '__proto__')?.value, 'proto')
    assert.deepEqual(json.constructor, { k: 1 })
  })

  test('a document nobody wrote is 404 and is not loaded', async () => {
    for (const query of ['', '?format=json', '?format=text&name=t']) {
      await assertError(await fetch(`${s.http}${path('never/written', query)}`), 404, 'not-found')
    }
    assert.equal(s.server.registry.get('never/written'), undefined)
  })

  test('the list pages by prefix, after and limit, with size and last change of loaded rooms', async () => {
    for (const room of ['list/a', 'list/b', 'list/c', 'other/z']) {
      const doc = new Y.Doc()
      doc.getText('t').insert(0, room)
      assert.equal((await post(s, room, Y.encodeStateAsUpdate(doc))).status, 200)
    }
    const first = await (await fetch(`${s.http}/api/docs?prefix=list%2F&limit=2`)).json()
    assert.deepEqual(
      first.rooms.map((r: { name: string }) => r.name),
      ['list/a', 'list/b'],
    )
    assert.equal(first.next, 'list/b')
    const [a] = first.rooms
    assert.equal(a.loaded, true)
    assert.ok(a.size > 0, 'a loaded room reports its stored bytes')
    assert.ok(Math.abs(Date.parse(a.lastChange) - Date.now()) < 60_000, 'and when it last changed')
    const rest = await (await fetch(`${s.http}/api/docs?prefix=list%2F&limit=2&after=list%2Fb`)).json()
    assert.deepEqual(rest, { rooms: [rest.rooms[0]] })
    assert.equal(rest.rooms[0].name, 'list/c')
    const all = await (await fetch(`${s.http}/api/docs`)).json()
    assert.ok(all.rooms.some((r: { name: string }) => r.name === 'other/z'))
    await assertError(await fetch(`${s.http}/api/docs?limit=0`), 400, 'bad-request')
    await assertError(await fetch(`${s.http}/api/docs?limit=10001`), 400, 'bad-request')
  })

  test('errors under /api/docs are JSON with a code and a sentence; /api/rooms stays as it was', async () => {
    await assertError(await fetch(`${s.http}/api/docs/a/b/c`), 404, 'not-found')
    await assertError(await fetch(`${s.http}/api/docs/x`, { method: 'PUT' }), 404, 'not-found')
    await assertError(await fetch(`${s.http}/api/docs/${'x'.repeat(300)}`), 400, 'bad-request')
    const rooms = await (await fetch(`${s.http}/api/rooms?limit=1`)).json()
    assert.equal(rooms.rooms.length, 1)
    assert.equal(typeof rooms.rooms[0], 'string', 'the older list still answers names')
  })

  test('openapi.json describes every route', async () => {
    const response = await fetch(`${s.http}/api/openapi.json`)
    assert.equal(response.status, 200)
    const spec = await response.json()
    assert.match(spec.openapi, /^3\./)
    const routes = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(
      ([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`),
    )
    assert.deepEqual(routes.sort(), [
      'DELETE /api/docs/{room}',
      'GET /api/docs',
      'GET /api/docs/{room}',
      'GET /api/docs/{room}/events',
      'GET /api/docs/{room}/versions',
      'GET /api/docs/{room}/versions/{id}',
      'POST /api/docs/{room}/updates',
      'POST /api/docs/{room}/versions',
      'POST /api/docs/{room}/versions/{id}/restore',
    ])
    assert.ok(spec.components.schemas.Error, 'the error shape is described')
  })
})

describe('the list after a restart', () => {
  test('a room not loaded reports the size and last change storage recorded', async () => {
    const s = await startServer()
    const from = Date.now()
    try {
      const doc = new Y.Doc()
      doc.getText('t').insert(0, 'written before the restart')
      assert.equal((await post(s, 'kept/doc', Y.encodeStateAsUpdate(doc))).status, 200)
    } finally {
      await s.stop()
    }
    const to = Date.now()
    const again = await startServer({}, s.dataDir)
    try {
      const listed = await (await fetch(`${again.http}/api/docs?prefix=kept%2F`)).json()
      assert.equal(listed.rooms.length, 1)
      const [room] = listed.rooms
      assert.equal(room.name, 'kept/doc')
      assert.equal(room.loaded, false, 'listing does not load it')
      assert.ok(room.size > 0, `size ${room.size} from storage`)
      const at = Date.parse(room.lastChange)
      assert.ok(at >= from && at <= to, `lastChange ${room.lastChange} is when it was written`)
      assert.equal(again.server.registry.get('kept/doc'), undefined)
    } finally {
      await again.stop()
      removeDir(s.dataDir)
    }
  })
})

describe('deleting a document', () => {
  test('closes live clients with 4404, a stock provider does not reconnect, and the data is gone after a restart', async () => {
    const s = await startServer()
    const provider = connectProvider(s.url, 'doomed/doc')
    const raw = new RawClient(`${s.url}/doomed%2Fdoc`)
    const closes: number[] = []
    provider.provider.on('connection-close', (event) => {
      if (event) closes.push(event.code)
    })
    try {
      await synced(provider)
      await raw.opened
      provider.text.insert(0, 'soon gone')
      await waitFor(() => s.server.metrics.updatesPersisted > 0, 'the edit to be stored')
      const response = await fetch(`${s.http}${path('doomed/doc')}`, { method: 'DELETE' })
      assert.equal(response.status, 204)
      assert.equal(await raw.closed, 4404)
      assert.equal(raw.closeReason, 'document deleted')
      await waitFor(() => closes.includes(4404), 'the provider to see 4404')
      await sleep(1500)
      assert.equal(provider.provider.wsconnected, false, 'it did not reconnect')
      assert.equal((await fetch(`${s.http}${path('doomed/doc')}`)).status, 404)
      assert.equal((await fetch(`${s.http}${path('doomed/doc')}`, { method: 'DELETE' })).status, 404)
      assert.ok(
        s.logs.lines.some((line) => line.msg === 'document deleted' && line.room === 'doomed/doc'),
        'the deletion is logged with the room',
      )
    } finally {
      provider.destroy()
      raw.close()
      await s.stop()
    }
    const again = await startServer({}, s.dataDir)
    try {
      assert.equal((await fetch(`${again.http}${path('doomed/doc')}`)).status, 404)
      const listed = await (await fetch(`${again.http}/api/docs?prefix=doomed`)).json()
      assert.deepEqual(listed, { rooms: [] })
    } finally {
      await again.stop()
      removeDir(s.dataDir)
    }
  })
})
