import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as Y from 'yjs'
import { connectProvider, metric, synced, waitForAsync } from './helpers/clients.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'

describe('HTTP on the same port', () => {
  let s: TestServer
  before(async () => {
    s = await startServer()
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('/healthz and /readyz answer', async () => {
    const health = await fetch(`${s.http}/healthz`)
    assert.equal(health.status, 200)
    assert.deepEqual(await health.json(), { status: 'ok' })
    const ready = await fetch(`${s.http}/readyz`)
    assert.equal(ready.status, 200)
  })

  test('probes answer HEAD and queries like GET; other methods and paths reach the app', async () => {
    const head = await fetch(`${s.http}/healthz`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('content-type'), 'application/json')
    assert.equal(await head.text(), '')
    const queried = await fetch(`${s.http}/readyz?verbose=1`)
    assert.deepEqual(await queried.json(), { status: 'ready' })
    // The Hono side answers what the probes do not, also when several first requests arrive at once.
    const answers = await Promise.all([
      fetch(`${s.http}/healthz`, { method: 'POST' }),
      fetch(`${s.http}/healthz/`),
      fetch(`${s.http}/api/info`),
    ])
    assert.deepEqual(
      answers.map((a) => a.status),
      [404, 404, 200],
    )
    assert.deepEqual(await answers[0].json(), { error: 'not found', path: '/healthz' })
    // The app answers the probes the same way for an embedder that mounts it elsewhere.
    const viaApp = await s.server.app.request('/healthz')
    assert.equal(viaApp.headers.get('content-type'), 'application/json')
    assert.deepEqual(await viaApp.json(), { status: 'ok' })
  })

  test('/metrics counts sockets, rooms, frames and persisted updates in Prometheus text', async () => {
    const client = connectProvider(s.url, 'metered')
    await synced(client)
    client.text.insert(0, 'count me')
    await waitForAsync(
      async () =>
        (await metric(s.http, 'plait_updates_persisted_total')) >= 1 &&
        (await metric(s.http, 'plait_relay_seconds_count')) >= 1,
      'the edit to be stored and relayed',
    )
    const text = await (await fetch(`${s.http}/metrics`)).text()
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
    assert.equal(value('plait_open_sockets'), 1)
    assert.equal(value('plait_loaded_rooms'), 1)
    assert.ok(value('plait_frames_in_total') >= 2)
    assert.ok(value('plait_updates_persisted_total') >= 1)
    assert.match(text, /plait_persist_batch_seconds_bucket\{le="\+Inf"\} \d+/)
    assert.ok(value('plait_relay_seconds_count') >= 1, 'the broadcast of the edit was timed')
    client.destroy()
    await waitForAsync(async () => (await metric(s.http, 'plait_open_sockets')) === 0, 'the socket to close')
    const later = await (await fetch(`${s.http}/metrics`)).text()
    assert.match(later, /plait_socket_closes_total\{code="\d+"\} 1/)
  })

  test('/api/info says whether auth is on', async () => {
    const info = await (await fetch(`${s.http}/api/info`)).json()
    assert.equal(info.auth, 'open')
  })

  test('the document API lists rooms and exports a document as one Yjs update', async () => {
    const client = connectProvider(s.url, 'team/api doc')
    await synced(client)
    const persisted = await metric(s.http, 'plait_updates_persisted_total')
    client.text.insert(0, 'exported')
    const name = encodeURIComponent('team/api doc')
    await waitForAsync(
      async () => (await metric(s.http, 'plait_updates_persisted_total')) > persisted,
      'the edit to be stored',
    )
    const list = await (await fetch(`${s.http}/api/rooms`)).json()
    assert.ok(list.rooms.includes('team/api doc'))
    assert.ok(list.rooms.length >= 2, 'earlier tests stored rooms too')
    const first = await (await fetch(`${s.http}/api/rooms?limit=1`)).json()
    assert.deepEqual(first.rooms, [list.rooms[0]])
    const second = await (
      await fetch(`${s.http}/api/rooms?limit=1&after=${encodeURIComponent(first.next)}`)
    ).json()
    assert.deepEqual(second.rooms, [list.rooms[1]])
    assert.equal((await fetch(`${s.http}/api/rooms?limit=0`)).status, 400)
    const status = await (await fetch(`${s.http}/api/rooms/${name}`)).json()
    assert.deepEqual(status, { room: 'team/api doc', exists: true, loaded: true, clients: 1 })
    const state = await fetch(`${s.http}/api/rooms/${name}/state`)
    assert.equal(state.headers.get('content-type'), 'application/octet-stream')
    const doc = new Y.Doc()
    Y.applyUpdate(doc, new Uint8Array(await state.arrayBuffer()))
    assert.equal(doc.getText('t').toString(), 'exported')
    assert.equal((await fetch(`${s.http}/api/rooms/nobody-wrote-here/state`)).status, 404)
    assert.equal((await fetch(`${s.http}/api/rooms/${encodeURIComponent('a\nb')}/state`)).status, 400)
    client.destroy()
  })

  test('a plain GET to a room path is not an upgrade and gets 404', async () => {
    const response = await fetch(`${s.http}/some-room`)
    assert.equal(response.status, 404)
  })
})
