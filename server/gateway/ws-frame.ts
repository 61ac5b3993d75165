// A server-to-client WebSocket frame (RFC 6455 §5.2) built once per broadcast and written as-is to every
// member's socket: ws would otherwise build a header and go through cork/writev for each socket.
// Server frames are never masked; plait sends final binary frames only and never compresses.
// The document core hands members messages; this is where a shared message becomes one frame.

const FIN_BINARY = 0x82

/** The complete wire bytes of one final, unmasked binary frame carrying `payload`. */
export function encodeBinaryFrame(payload: Uint8Array): Buffer {
  const length = payload.byteLength
  const headerLength = length < 126 ? 2 : length < 0x10000 ? 4 : 10
  const frame = Buffer.allocUnsafe(headerLength + length)
  frame[0] = FIN_BINARY
  if (length < 126) {
    frame[1] = length
  } else if (length < 0x10000) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2)
    frame.writeUInt32BE(length >>> 0, 6)
  }
  frame.set(payload, headerLength)
  return frame
}

// The last shared message and its frame: a broadcast sends one message to every member in one
// synchronous loop, so one slot is enough; it is emptied after the loop, so no big frame stays alive.
let sharedMessage: Uint8Array | null = null
let sharedWireFrame: Buffer | null = null
const forgetShared = () => {
  sharedMessage = null
  sharedWireFrame = null
}

/** The frame of a message that goes to many sockets now: built once for all of them. */
export function sharedFrame(message: Uint8Array): Buffer {
  if (message !== sharedMessage || sharedWireFrame === null) {
    if (sharedMessage === null) queueMicrotask(forgetShared)
    sharedMessage = message
    sharedWireFrame = encodeBinaryFrame(message)
  }
  return sharedWireFrame
}
