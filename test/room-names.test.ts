// Room names: the percent-decoded path after the prefix, without the query; bad names are refused before a
// socket exists.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parseRoomName } from '../server/protocol/room-name.js'
import {
  connectProvider,
  RawClient,
  roomStatus,
  synced,
  upgradeStatus,
  waitFor,
  waitForAsync,
} from './helpers/clients.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'

describe('room names on the wire', () => {
  let s: TestServer
  before(async () => {
    s = await startServer()
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('bad room names are refused with HTTP 400 before a socket exists', async () => {
    assert.equal(await upgradeStatus(s.port, `/${'x'.repeat(257)}`), 400)
    assert.equal(await upgradeStatus(s.port, '/bad%00name'), 400)
    assert.equal(await upgradeStatus(s.port, '/bad%E0%A4%A'), 400)
    assert.equal(
      await upgradeStatus(s.port, '/'),
      101,
      'no room: the Hocuspocus framing (hocuspocus.test.ts)',
    )
    assert.equal(
      await upgradeStatus(s.port, `/${encodeURIComponent('é'.repeat(128))}`),
      101,
      '256 bytes is allowed',
    )
    assert.equal(
      await upgradeStatus(s.port, `/${encodeURIComponent('é'.repeat(128))}x`),
      400,
      '257 bytes is not',
    )
  })

  test('the query string is not part of the room name', async () => {
    const raw = new RawClient(`${s.url}/q-room?foo=bar`)
    await raw.opened
    await waitForAsync(
      async () => (await roomStatus(s.http, 'q-room')).clients === 1,
      'the socket to join q-room',
    )
    assert.equal(
      (await roomStatus(s.http, 'q-room?foo=bar')).loaded,
      false,
      'no room is named with the query',
    )
    raw.close()
  })
})

describe('a path prefix', () => {
  test('puts rooms under it and refuses upgrades outside it', async () => {
    const s = await startServer({ pathPrefix: '/collab' })
    try {
      const a = connectProvider(`${s.url}/collab`, 'doc')
      const b = connectProvider(`${s.url}/collab`, 'doc')
      await synced(a, b)
      a.text.insert(0, 'prefixed')
      await waitFor(() => b.text.toString() === 'prefixed', 'the edit to cross')
      const status = await roomStatus(s.http, 'doc')
      assert.deepEqual([status.loaded, status.clients], [true, 2], 'the room name excludes the prefix')
      assert.equal(await upgradeStatus(s.port, '/doc'), 400)
      a.destroy()
      b.destroy()
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})

describe('room names', () => {
  test('are the percent-decoded path after the prefix', () => {
    assert.deepEqual(parseRoomName('/team/notes%202026?x=1', ''), {
      ok: true,
      room: 'team/notes 2026',
      query: 'x=1',
    })
    assert.deepEqual(parseRoomName('/collab/a', '/collab'), { ok: true, room: 'a', query: '' })
    assert.equal(parseRoomName('/other/a', '/collab').ok, false)
    assert.equal(parseRoomName('/a%0Ab', '').ok, false)
  })
})
