// The wire contract module on its own: every message round-trips, and the room-name rule.
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import * as decoding from 'lib0/decoding'
import { Closes } from '../server/protocol/close-codes.js'
import {
  AuthSub,
  decodeClientMessage,
  decodeServerMessage,
  encodeAuthenticated,
  encodeAuthToken,
  encodeAwareness,
  encodePermissionDenied,
  encodeQueryAwareness,
  encodeSync,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
  MessageType,
  ProtocolError,
  SyncSub,
  varUintLength,
  writeVarUint,
} from '../server/protocol/messages.js'
import { MAX_ROOM_NAME_BYTES, parseRoomName, roomNameProblem } from '../server/protocol/room-name.js'
import { isValidRoomName, readRoomLink } from '../web-demo/src/shared/room-link.js'

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251)
// 0, 1, 127 and 128 bytes cross the one- and two-byte varint lengths; 70 000 needs three
const sizes = [0, 1, 127, 128, 70_000]

test('every sync message round-trips in both directions, at every varint length', () => {
  for (const size of sizes) {
    const payload = bytes(size)
    for (const decode of [decodeClientMessage, decodeServerMessage]) {
      assert.deepEqual(decode(encodeSyncStep1(payload)), { kind: 'sync-step1', stateVector: payload })
      assert.deepEqual(decode(encodeSyncStep2(payload)), { kind: 'sync-step2', update: payload })
      assert.deepEqual(decode(encodeUpdate(payload)), { kind: 'sync-update', update: payload })
    }
    assert.deepEqual(encodeSync(SyncSub.update, payload), encodeUpdate(payload))
    assert.equal(encodeUpdate(payload).length, 2 + varUintLength(size) + size, 'one exact allocation')
  }
})

test('awareness and query-awareness round-trip', () => {
  for (const size of sizes) {
    const update = bytes(size)
    assert.deepEqual(decodeClientMessage(encodeAwareness(update)), { kind: 'awareness', update })
    assert.deepEqual(decodeServerMessage(encodeAwareness(update)), { kind: 'awareness', update })
  }
  assert.deepEqual([...encodeQueryAwareness()], [MessageType.queryAwareness])
  assert.deepEqual(decodeClientMessage(encodeQueryAwareness()), { kind: 'query-awareness' })
})

test('the token frame is [2][0][varString token] and round-trips with any UTF-8 and length', () => {
  for (const token of ['', 'eyJhbGciOiJIUzI1NiJ9.e30.ünïcødé', 'x'.repeat(5000)]) {
    const frame = encodeAuthToken(token)
    assert.deepEqual([...frame.subarray(0, 2)], [MessageType.auth, AuthSub.token])
    assert.deepEqual(decodeClientMessage(frame), { kind: 'auth-token', token })
    // sub 0 from the server is permission-denied: the same bytes, read in the other direction
    assert.deepEqual(decodeServerMessage(frame), { kind: 'permission-denied', reason: token })
  }
})

test('the verdicts round-trip; an unknown scope is not one', () => {
  for (const scope of ['read-write', 'readonly'] as const) {
    assert.deepEqual(decodeServerMessage(encodeAuthenticated(scope)), { kind: 'authenticated', scope })
  }
  assert.deepEqual(decodeServerMessage(encodePermissionDenied('token expired')), {
    kind: 'permission-denied',
    reason: 'token expired',
  })
  const admin = encodeAuthenticated('admin' as 'readonly')
  assert.throws(() => decodeServerMessage(admin), { name: 'ProtocolError', code: 1007 })
  // a client never sends a verdict
  assert.throws(() => decodeClientMessage(encodeAuthenticated('readonly')), { code: 1002 })
})

test('malformed frames throw ProtocolError with the close code to answer with', () => {
  const cases: [Uint8Array, number][] = [
    [new Uint8Array([]), Closes.protocolError],
    [new Uint8Array([9]), Closes.protocolError],
    [new Uint8Array([0, 7, 0]), Closes.protocolError],
    [new Uint8Array([0, 0, 5, 1]), Closes.invalidPayload],
    [new Uint8Array([0x80]), Closes.invalidPayload],
    [new Uint8Array([2, 0, 2, 0xc3, 0x28]), Closes.invalidPayload],
  ]
  for (const decode of [decodeClientMessage, decodeServerMessage]) {
    for (const [frame, code] of cases) {
      assert.throws(
        () => decode(frame),
        (error: unknown) => error instanceof ProtocolError && error.code === code,
        `${[...frame]}`,
      )
    }
  }
  // a server does not send query-awareness
  assert.throws(() => decodeServerMessage(encodeQueryAwareness()), { code: 1002 })
})

test('writeVarUint writes what lib0 reads', () => {
  for (const n of [0, 1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 53 - 1]) {
    const buf = new Uint8Array(varUintLength(n))
    assert.equal(writeVarUint(buf, 0, n), buf.length)
    assert.equal(decoding.readVarUint(decoding.createDecoder(buf)), n)
  }
})

test('room names: 1..256 bytes of UTF-8, no C0 or C1 control characters or DEL', () => {
  assert.equal(roomNameProblem('team/notes 2026'), null)
  assert.match(roomNameProblem('') ?? '', /empty/)
  for (const control of ['\u0000', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f']) {
    assert.match(roomNameProblem(`a${control}b`) ?? '', /control/, JSON.stringify(control))
  }
  // just outside the control ranges
  assert.equal(roomNameProblem('\u00a0\u0020~'), null)

  assert.equal(roomNameProblem('a'.repeat(MAX_ROOM_NAME_BYTES)), null)
  assert.match(roomNameProblem('a'.repeat(MAX_ROOM_NAME_BYTES + 1)) ?? '', /longer than 256 bytes/)
  // multi-byte characters count by their UTF-8 bytes, not by UTF-16 units
  assert.equal(roomNameProblem('é'.repeat(128)), null, '128 × 2 bytes')
  assert.match(roomNameProblem('é'.repeat(129)) ?? '', /longer/, '129 × 2 bytes in 129 units')
  assert.equal(roomNameProblem(`${'€'.repeat(85)}a`), null, '85 × 3 + 1 bytes')
  assert.match(roomNameProblem('€'.repeat(86)) ?? '', /longer/, '86 × 3 bytes')
  assert.equal(roomNameProblem('😀'.repeat(64)), null, '64 × 4 bytes in 128 units')
  assert.match(roomNameProblem(`${'😀'.repeat(64)}a`) ?? '', /longer/)
})

test('room names from upgrade targets', () => {
  assert.deepEqual(parseRoomName('/team/notes%202026?x=1', ''), {
    ok: true,
    room: 'team/notes 2026',
    query: 'x=1',
  })
  assert.deepEqual(parseRoomName('/collab/a', '/collab'), { ok: true, room: 'a', query: '' })
  assert.equal(parseRoomName('/other/a', '/collab').ok, false)
  assert.equal(parseRoomName('/%E0%A4%A', '').ok, false)
  assert.equal(parseRoomName('/a%C2%85b', '').ok, false, 'a percent-encoded C1 control')
})

test('the demo opens only rooms the server accepts (the same rule, C1 controls included)', () => {
  for (const room of ['a\u0085b', 'a\u009fb', '', 'é'.repeat(129)]) {
    assert.equal(isValidRoomName(room), false, JSON.stringify(room))
    assert.equal(readRoomLink('notes', `#room=${encodeURIComponent(room)}`).room, 'notes')
  }
  assert.equal(readRoomLink('notes', `#room=${encodeURIComponent('é'.repeat(128))}`).room, 'é'.repeat(128))
})

test('server/protocol imports only lib0 and itself, so browsers, client/ and bench/ can use it', async () => {
  const dir = join(import.meta.dirname, '..', 'server', 'protocol')
  for (const file of await readdir(dir)) {
    const source = await readFile(join(dir, file), 'utf8')
    for (const [, specifier] of source.matchAll(/\bfrom\s+'([^']+)'/g)) {
      assert.ok(
        specifier?.startsWith('lib0/') || /^\.\/[\w-]+\.js$/.test(specifier ?? ''),
        `${file} imports ${specifier}`,
      )
    }
    assert.doesNotMatch(source, /\b(Buffer|process|require)\b[.(]/, `${file} uses a Node global`)
  }
})
