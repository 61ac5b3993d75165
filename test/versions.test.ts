// Named versions over real HTTP with stock y-websocket providers connected: keep, list, read in every
// format, restore (clients follow it; later and concurrent edits are kept), and versions outliving
// compaction and a restart. Real LevelDB in temp directories.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as Y from 'yjs'
import type { Access } from '../server/auth/authenticators.js'
import { mintToken } from '../server/cli/token-command.js'
import { connectProvider, synced, waitFor } from './helpers/clients.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'

const path = (room: string, rest = '') => `/api/docs/${encodeURIComponent(room)}${rest}`

function call(s: TestServer, method: string, url: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' }
  if (token !== undefined) headers.Authorization = `Bearer ${token}`
  return fetch(`${s.http}${url}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

async function keep(s: TestServer, room: string, name: string): Promise<string> {
  const response = await call(s, 'POST', path(room, '/versions'), { name })
  assert.equal(response.status, 200, await response.clone().text())
  const { id } = await response.json()
  assert.equal(typeof id, 'string')
  return id
}

async function restore(s: TestServer, room: string, id: string): Promise<string> {
  const response = await call(s, 'POST', path(room, `/versions/${encodeURIComponent(id)}/restore`))
  assert.equal(response.status, 200, await response.clone().text())
  const body = await response.json()
  assert.equal(body.ok, true)
  return body.before
}

async function versionText(s: TestServer, room: string, id: string): Promise<string> {
  const response = await call(s, 'GET', path(room, `/versions/${encodeURIComponent(id)}?format=text&name=t`))
  assert.equal(response.status, 200)
  return response.text()
}

describe('named versions over HTTP', () => {
  let s: TestServer
  before(async () => {
    s = await startServer()
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('a version is kept, listed newest first, and read as an update, JSON or text', async () => {
    const client = connectProvider(s.url, 'team/ünïcode')
    try {
      await synced(client)
      client.text.insert(0, 'first draft')
      client.doc.getMap('meta').set('title', 'Plan')
      await waitFor(() => s.server.registry.get('team/ünïcode')?.doc.getText('t').length === 11, 'the edit')
      const first = await keep(s, 'team/ünïcode', 'draft')
      client.text.insert(11, ', second')
      await waitFor(() => s.server.registry.get('team/ünïcode')?.doc.getText('t').length === 19, 'the edit')
      const second = await keep(s, 'team/ünïcode', 'second')
      const listed = await (await call(s, 'GET', path('team/ünïcode', '/versions'))).json()
      assert.deepEqual(
        listed.versions.map((v: { id: string; name: string; createdBy: null }) => [
          v.id,
          v.name,
          v.createdBy,
        ]),
        [
          [second, 'second', null],
          [first, 'draft', null],
        ],
      )
      assert.ok(listed.versions.every((v: { size: number }) => v.size > 0))
      assert.ok(!Number.isNaN(Date.parse(listed.versions[0].createdAt)))
      assert.equal(await versionText(s, 'team/ünïcode', first), 'first draft')
      const json = await (await call(s, 'GET', path('team/ünïcode', `/versions/${first}?format=json`))).json()
      assert.deepEqual(json, { meta: { title: 'Plan' }, t: 'first draft' })
      const update = await call(s, 'GET', path('team/ünïcode', `/versions/${second}`))
      assert.equal(update.headers.get('content-type'), 'application/octet-stream')
      const doc = new Y.Doc()
      Y.applyUpdate(doc, new Uint8Array(await update.arrayBuffer()))
      assert.equal(doc.getText('t').toString(), 'first draft, second')
      assert.equal(client.text.toString(), 'first draft, second', 'keeping a version changes nothing')
    } finally {
      client.destroy()
    }
  })

  test('unknown documents and versions are 404, bad ids and names 400', async () => {
    assert.equal((await call(s, 'POST', path('nobody', '/versions'), { name: 'x' })).status, 404)
    assert.equal((await call(s, 'GET', path('nobody', '/versions'))).status, 404)
    const client = connectProvider(s.url, 'some')
    try {
      await synced(client)
      client.text.insert(0, 'x')
      await waitFor(() => s.server.registry.get('some')?.exists === true, 'the edit')
      assert.equal((await call(s, 'GET', path('some', '/versions/nope'))).status, 404)
      assert.equal((await call(s, 'POST', path('some', '/versions/nope/restore'))).status, 404)
      assert.equal((await call(s, 'GET', path('some', '/versions/a%00b'))).status, 400)
      assert.equal((await call(s, 'POST', path('some', '/versions'), { name: '' })).status, 400)
      assert.equal((await call(s, 'POST', path('some', '/versions'), {})).status, 400)
    } finally {
      client.destroy()
    }
  })

  test('a restore reaches live providers; an edit made after the version, or while offline, is not lost', async () => {
    const room = 'restored'
    const alice = connectProvider(s.url, room)
    const bob = connectProvider(s.url, room)
    try {
      await synced(alice, bob)
      alice.text.insert(0, 'hello')
      await waitFor(() => bob.text.toString() === 'hello', 'bob to see hello')
      const v1 = await keep(s, room, 'hello only')
      // Bob's edit after the version.
      bob.text.insert(5, ' world')
      await waitFor(() => alice.text.toString() === 'hello world', 'alice to see world')
      await waitFor(
        () => s.server.registry.get(room)?.doc.getText('t').toString() === 'hello world',
        'stored',
      )
      // Bob goes offline and keeps typing: his edit is concurrent with the restore.
      bob.provider.disconnect()
      bob.text.insert(11, '!!')
      const before = await restore(s, room, v1)
      await waitFor(() => alice.text.toString() === 'hello', 'alice to follow the restore')
      // The edit after the version is kept: in the version taken just before the restore, and back by
      // restoring that one (the restore is undoable).
      assert.equal(await versionText(s, room, before), 'hello world')
      // The concurrent edit merges like any other: it is still in the document once bob is back.
      bob.provider.connect()
      await waitFor(
        () => alice.text.toString() === bob.text.toString() && alice.text.toString().includes('!!'),
        'bob’s offline edit to merge',
      )
      // Its neighbours were replaced, so it lands at one end of the restored text (Yjs orders two inserts
      // after the same deleted character by client id).
      assert.ok(['hello!!', '!!hello'].includes(alice.text.toString()), alice.text.toString())
      const merged = alice.text.toString()
      const undo = await restore(s, room, before)
      await waitFor(
        () => alice.text.toString() === 'hello world' && bob.text.toString() === 'hello world',
        'the undo',
      )
      assert.equal(await versionText(s, room, undo), merged)
      const names = (await (await call(s, 'GET', path(room, '/versions'))).json()).versions.map(
        (v: { name: string }) => v.name,
      )
      assert.deepEqual(names, [
        'before restoring "before restoring "hello only""',
        'before restoring "hello only"',
        'hello only',
      ])
    } finally {
      alice.destroy()
      bob.destroy()
    }
  })

  test('a restore replaces maps, arrays and XML with the version’s content; clients see the same JSON', async () => {
    const room = 'rich'
    const client = connectProvider(s.url, room)
    try {
      await synced(client)
      const { doc } = client
      const meta = doc.getMap<unknown>('meta')
      const tags = doc.getArray<string>('tags')
      const prose = doc.getXmlFragment('prose')
      doc.transact(() => {
        doc.getText('body').insert(0, 'bold', { bold: true })
        meta.set('title', 'Plan')
        meta.set('owner', 'alice')
        const nested = new Y.Map<number>()
        nested.set('n', 1)
        meta.set('nested', nested)
        tags.push(['a', 'b'])
        const p = new Y.XmlElement('p')
        p.setAttribute('class', 'lead')
        p.insert(0, [new Y.XmlText('hi')])
        prose.insert(0, [p])
      })
      await waitFor(() => s.server.registry.get(room)?.doc.getArray('tags').length === 2, 'the edit')
      const id = await keep(s, room, 'rich')
      const expected = await (await call(s, 'GET', path(room, `/versions/${id}?format=json`))).json()
      doc.transact(() => {
        doc.getText('body').insert(4, ' and more')
        meta.delete('owner')
        meta.set('title', 'Changed')
        meta.set('added', true)
        tags.delete(0, 1)
        prose.insert(1, [new Y.XmlElement('hr')])
        doc.getText('other').insert(0, 'a root the version lacks')
      })
      await waitFor(() => s.server.registry.get(room)?.doc.getArray('tags').length === 1, 'the change')
      await restore(s, room, id)
      const current = async () => (await call(s, 'GET', path(room, '?format=json'))).json()
      assert.deepEqual(await current(), { ...expected, other: '' })
      await waitFor(() => tags.length === 2, 'the client to follow')
      assert.deepEqual(meta.toJSON(), expected.meta)
      assert.deepEqual(tags.toJSON(), ['a', 'b'])
      assert.equal(prose.toString(), expected.prose)
      assert.deepEqual(doc.getText('body').toDelta(), [{ insert: 'bold', attributes: { bold: true } }])
    } finally {
      client.destroy()
    }
  })
})

describe('versions and storage', () => {
  test('versions survive compaction of their room and a restart', async () => {
    const first = await startServer({ tuning: { compactEntries: 5, roomIdleMs: 100 } })
    const writer = connectProvider(first.url, 'long')
    let id: string
    try {
      await synced(writer)
      writer.text.insert(0, 'kept')
      await waitFor(() => first.server.registry.get('long')?.doc.getText('t').length === 4, 'the edit')
      id = await keep(first, 'long', 'kept')
      for (let i = 0; i < 20; i++) {
        writer.text.insert(writer.text.length, `${i}`)
        const length = writer.text.length
        // Each edit its own log entry: the next waits until this one is in the server's document.
        await waitFor(
          () => first.server.registry.get('long')?.doc.getText('t').length === length,
          `edit ${i}`,
        )
      }
      await waitFor(() => first.server.metrics.compactions >= 1, 'a compaction')
      assert.equal(await versionText(first, 'long', id), 'kept')
    } finally {
      writer.destroy()
      await first.stop()
    }
    const second = await startServer({}, first.dataDir)
    try {
      assert.equal(await versionText(second, 'long', id), 'kept')
      const reader = connectProvider(second.url, 'long')
      try {
        await synced(reader)
        await restore(second, 'long', id)
        await waitFor(() => reader.text.toString() === 'kept', 'the reader to follow the restore')
      } finally {
        reader.destroy()
      }
    } finally {
      await second.stop()
      removeDir(first.dataDir)
    }
  })
})

describe('versions with tokens', () => {
  const SECRET = 'versions-test-secret-long-enough-for-hs256'
  const token = (access: Access) =>
    mintToken({ secret: SECRET, sub: 'alice', docs: { doc: access }, ttlSeconds: 600 })
  let s: TestServer
  before(async () => {
    s = await startServer({ auth: { secret: SECRET } })
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('reading needs read access; keeping and restoring need write access; the creator is recorded', async () => {
    const writer = await token('write')
    const reader = await token('read')
    const handle = await s.server.openDocument('doc')
    await handle.transact((doc) => doc.getText('t').insert(0, 'x'))
    handle.release()
    assert.equal((await call(s, 'GET', path('doc', '/versions'))).status, 401)
    assert.equal((await call(s, 'POST', path('doc', '/versions'), { name: 'v' }, reader)).status, 403)
    const created = await call(s, 'POST', path('doc', '/versions'), { name: 'v' }, writer)
    assert.equal(created.status, 200)
    const { id } = await created.json()
    const listed = await (await call(s, 'GET', path('doc', '/versions'), undefined, reader)).json()
    assert.equal(listed.versions[0].createdBy, 'alice')
    assert.equal(
      (await call(s, 'GET', path('doc', `/versions/${id}?format=text&name=t`), undefined, reader)).status,
      200,
    )
    assert.equal(
      (await call(s, 'POST', path('doc', `/versions/${id}/restore`), undefined, reader)).status,
      403,
    )
    assert.equal(
      (await call(s, 'POST', path('doc', `/versions/${id}/restore`), undefined, writer)).status,
      200,
    )
    const other = await mintToken({
      secret: SECRET,
      sub: 'eve',
      docs: { elsewhere: 'write' },
      ttlSeconds: 600,
    })
    assert.equal((await call(s, 'GET', path('doc', `/versions/${id}`), undefined, other)).status, 403)
  })
})
