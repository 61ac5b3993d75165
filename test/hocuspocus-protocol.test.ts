// The Hocuspocus framing as pure functions (server/protocol/hocuspocus.ts) and how an upgrade target
// picks the framing (room-name.ts), checked against frames built the way the provider builds them.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as encoding from 'lib0/encoding'
import {
  decodeHocuspocusFrame,
  decodeHocuspocusServerFrame,
  encodeDocumentClose,
  encodeDocumentName,
  encodeHocuspocusAuthenticated,
  encodeHocuspocusPermissionDenied,
  encodeStateless,
  encodeSyncStatus,
  withDocumentName,
} from '../server/protocol/hocuspocus.js'
import { encodeUpdate, ProtocolError } from '../server/protocol/messages.js'
import { parseUpgradeTarget } from '../server/protocol/room-name.js'

/** A provider frame: varString(name), varUint(type), then `write`. */
function providerFrame(name: string, type: number, write: (e: encoding.Encoder) => void = () => {}) {
  const e = encoding.createEncoder()
  encoding.writeVarString(e, name)
  encoding.writeVarUint(e, type)
  write(e)
  return encoding.toUint8Array(e)
}

describe('Hocuspocus framing', () => {
  test('the token message, with the provider version after it', () => {
    const frame = providerFrame('team/notes', 2, (e) => {
      encoding.writeVarUint(e, 0)
      encoding.writeVarString(e, 'tok')
      encoding.writeVarString(e, '4.8.0')
    })
    assert.deepEqual(decodeHocuspocusFrame(frame), {
      document: 'team/notes',
      message: { kind: 'auth-token', token: 'tok' },
    })
  })

  test('sync, stateless, close and the bare pong', () => {
    const update = new Uint8Array([1, 2, 3])
    const sync = withDocumentName(encodeDocumentName('d'), encodeUpdate(update))
    assert.deepEqual(decodeHocuspocusFrame(sync), { document: 'd', message: { kind: 'sync-update', update } })
    const stateless = providerFrame('d', 5, (e) => encoding.writeVarString(e, 'hi'))
    assert.deepEqual(decodeHocuspocusFrame(stateless).message, { kind: 'stateless', payload: 'hi' })
    assert.deepEqual(decodeHocuspocusFrame(providerFrame('d', 7)).message, { kind: 'close' })
    assert.deepEqual(decodeHocuspocusFrame(new Uint8Array([10])), {
      document: null,
      message: { kind: 'pong' },
    })
  })

  test('malformed frames are protocol errors with their close code', () => {
    const code = (frame: Uint8Array) => {
      try {
        decodeHocuspocusFrame(frame)
      } catch (error) {
        assert.ok(error instanceof ProtocolError)
        return error.code
      }
      return null
    }
    assert.equal(code(new Uint8Array()), 1002)
    assert.equal(code(new Uint8Array([5, 0x61])), 1007) // a name longer than the frame
    assert.equal(code(encodeDocumentName('d')), 1002) // a name and no message
    assert.equal(code(providerFrame('d', 42)), 1002) // unknown type
    assert.equal(code(new Uint8Array([2, 0xc3, 0x28, 0])), 1007) // a name that is not UTF-8
  })

  test('server messages read back as a provider reads them', () => {
    const read = (body: Uint8Array) =>
      decodeHocuspocusServerFrame(withDocumentName(encodeDocumentName('n'), body))
    assert.deepEqual(read(encodeHocuspocusAuthenticated('readonly')).message, {
      kind: 'authenticated',
      scope: 'readonly',
    })
    // Hocuspocus' permission-denied is auth sub 1 (y-protocols uses 0).
    assert.deepEqual([...encodeHocuspocusPermissionDenied('no').subarray(0, 2)], [2, 1])
    assert.deepEqual(read(encodeHocuspocusPermissionDenied('no')).message, {
      kind: 'permission-denied',
      reason: 'no',
    })
    assert.deepEqual(read(encodeSyncStatus(true)).message, { kind: 'sync-status', saved: true })
    assert.deepEqual(read(encodeStateless('x')).message, { kind: 'stateless', payload: 'x' })
    assert.deepEqual(read(encodeDocumentClose('bye')).message, { kind: 'close', reason: 'bye' })
  })
})

describe('which framing an upgrade speaks', () => {
  test('the base URL is Hocuspocus, a room path is y-websocket', () => {
    assert.deepEqual(parseUpgradeTarget('/', ''), { ok: true, protocol: 'hocuspocus', query: '' })
    assert.deepEqual(parseUpgradeTarget('/collab', '/collab'), {
      ok: true,
      protocol: 'hocuspocus',
      query: '',
    })
    assert.deepEqual(parseUpgradeTarget('/collab/?a=1', '/collab'), {
      ok: true,
      protocol: 'hocuspocus',
      query: 'a=1',
    })
    assert.deepEqual(parseUpgradeTarget('/collab/team%2Fx', '/collab'), {
      ok: true,
      protocol: 'y-websocket',
      room: 'team/x',
      query: '',
    })
    assert.equal(parseUpgradeTarget('/elsewhere', '/collab').ok, false)
  })
})
