import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { decodeAuthReply, encodeAuthToken } from '../client/index.js'

function serverFrame(sub: number, text: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 2)
  encoding.writeVarUint(encoder, sub)
  encoding.writeVarString(encoder, text)
  return encoding.toUint8Array(encoder)
}

test('the token frame is [2][0][varString token], readable by a lib0 decoder', () => {
  const token = 'eyJhbGciOiJIUzI1NiJ9.e30.ünïcødé'
  const decoder = decoding.createDecoder(encodeAuthToken(token))
  assert.equal(decoding.readVarUint(decoder), 2)
  assert.equal(decoding.readVarUint(decoder), 0)
  assert.equal(decoding.readVarString(decoder), token)
  assert.equal(decoding.hasContent(decoder), false)
})

test('a long token keeps its bytes (multi-byte length prefix)', () => {
  const token = 'x'.repeat(5000)
  const frame = encodeAuthToken(token)
  assert.deepEqual([...frame.subarray(0, 2)], [2, 0])
  const decoder = decoding.createDecoder(frame.subarray(2))
  assert.equal(decoding.readVarString(decoder), token)
})

test('the server granting access reports the scope', () => {
  assert.deepEqual(decodeAuthReply(serverFrame(2, 'read-write')), { kind: 'granted', scope: 'read-write' })
  assert.deepEqual(decodeAuthReply(serverFrame(2, 'readonly')), { kind: 'granted', scope: 'readonly' })
})

test('permission denied carries the reason', () => {
  assert.deepEqual(decodeAuthReply(serverFrame(0, 'token expired')), {
    kind: 'denied',
    reason: 'token expired',
  })
})

test('sync frames, unknown scopes and truncated frames are not verdicts', () => {
  assert.equal(decodeAuthReply(new Uint8Array([0, 0, 1, 0])), null)
  assert.equal(decodeAuthReply(serverFrame(2, 'admin')), null)
  assert.equal(decodeAuthReply(new Uint8Array([2, 2, 9, 97])), null)
  assert.equal(decodeAuthReply(new Uint8Array([])), null)
})
