// The Yjs update a sending client makes, written straight into bytes. A sender's doc only ever holds its own
// appends to one Y.Text (it never applies what it receives), so its doc is one run of characters by one
// Yjs client, and each append's update has a fixed shape: one ContentString item whose left origin is the
// client's previous character. Writing those bytes directly costs a fraction of a Y.Doc transaction and
// allocates nothing on the heap; verifyAppendEncoding() checks at start-up that they equal what Yjs
// itself emits, byte for byte, so every server receives exactly the updates a Y.Doc would send.
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { varUintLength, writeVarUint } from '../server/protocol/messages.js'

/** The root type every bench client edits. */
export const textName = 'bench'

const contentString = 4
/** Item info bit: the item has a left origin. */
const hasOrigin = 0x80

const textNameBytes = Buffer.from(textName, 'latin1')

/** Length of the update that appends `contentLength` ASCII bytes at `clock` for Yjs client `client`. */
export function appendUpdateLength(client: number, clock: number, contentLength: number): number {
  const origin =
    clock === 0
      ? 1 + 1 + textNameBytes.length // parent info (root key) + varString(textName)
      : varUintLength(client) + varUintLength(clock - 1)
  // [1 client][1 struct][client][clock][info] origin [varString content][0 deletions]
  return (
    2 +
    varUintLength(client) +
    varUintLength(clock) +
    1 +
    origin +
    varUintLength(contentLength) +
    contentLength +
    1
  )
}

/**
 * Writes the v1 update appending `content[from..to)` (ASCII) to the client's text at `clock`; returns the
 * position after it. The caller sizes `buf` with appendUpdateLength().
 */
export function writeAppendUpdate(
  buf: Uint8Array,
  pos: number,
  client: number,
  clock: number,
  content: Uint8Array,
  from: number,
  to: number,
): number {
  buf[pos++] = 1 // one client's structs
  buf[pos++] = 1 // one struct
  pos = writeVarUint(buf, pos, client)
  pos = writeVarUint(buf, pos, clock)
  if (clock === 0) {
    buf[pos++] = contentString // no origin: the parent is named
    buf[pos++] = 1 // parent is a root type, by key
    buf[pos++] = textNameBytes.length
    buf.set(textNameBytes, pos)
    pos += textNameBytes.length
  } else {
    buf[pos++] = contentString | hasOrigin
    pos = writeVarUint(buf, pos, client)
    pos = writeVarUint(buf, pos, clock - 1)
  }
  pos = writeVarUint(buf, pos, to - from)
  buf.set(content.subarray(from, to), pos)
  pos += to - from
  buf[pos++] = 0 // empty delete set
  return pos
}

/** The state vector of a sender's doc (`clock` characters by `client`), as Y.encodeStateVector writes it. */
export function encodeSenderStateVector(client: number, clock: number): Uint8Array {
  const encoder = encoding.createEncoder()
  if (clock === 0) {
    encoding.writeVarUint(encoder, 0)
  } else {
    encoding.writeVarUint(encoder, 1)
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, clock)
  }
  return encoding.toUint8Array(encoder)
}

/** What a sender's doc would answer to sync step 1 with `stateVector`: rebuilt as one insert (Yjs merges the run). */
export function encodeSenderStateAsUpdate(
  client: number,
  content: string,
  stateVector: Uint8Array,
): Uint8Array {
  const doc = new Y.Doc()
  doc.clientID = client
  if (content.length > 0) doc.getText(textName).insert(0, content)
  const update = Y.encodeStateAsUpdate(doc, stateVector)
  doc.destroy()
  return update
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0
}

/**
 * Throws unless the hand-written updates, state vectors and step-2 answers equal Yjs's own for a doc that
 * makes the same appends (clocks and client ids across varUint length boundaries included).
 */
export function verifyAppendEncoding(): void {
  for (const client of [1, 127, 128, 300_000, 0xffff_ffff]) {
    const doc = new Y.Doc()
    doc.clientID = client
    const text = doc.getText(textName)
    let expected: Uint8Array | null = null
    doc.on('update', (update: Uint8Array) => {
      expected = update
    })
    let clock = 0
    let written = ''
    for (let i = 0; i < 40; i++) {
      const piece = `@@m${client}.${i + 1}.${1_000_000 + i * 77_777};`
      const bytes = Buffer.from(piece, 'latin1')
      text.insert(text.length, piece)
      const mine = new Uint8Array(appendUpdateLength(client, clock, bytes.length))
      const end = writeAppendUpdate(mine, 0, client, clock, bytes, 0, bytes.length)
      if (expected === null || end !== mine.length || !equal(mine, expected)) {
        throw new Error(
          `bench: hand-written Yjs update differs from Yjs's (client ${client}, clock ${clock})`,
        )
      }
      clock += bytes.length
      written += piece
      if (!equal(encodeSenderStateVector(client, clock), Y.encodeStateVector(doc))) {
        throw new Error(
          `bench: hand-written state vector differs from Yjs's (client ${client}, clock ${clock})`,
        )
      }
    }
    const otherDoc = new Y.Doc()
    for (const sv of [Y.encodeStateVector(otherDoc), encodeSenderStateVector(client, 100)]) {
      if (!equal(encodeSenderStateAsUpdate(client, written, sv), Y.encodeStateAsUpdate(doc, sv))) {
        throw new Error(`bench: rebuilt sync step 2 differs from Yjs's (client ${client})`)
      }
    }
    otherDoc.destroy()
    doc.destroy()
  }
  if (!equal(encodeSenderStateVector(5, 0), Y.encodeStateVector(new Y.Doc()))) {
    throw new Error('bench: hand-written empty state vector differs from Yjs')
  }
}
