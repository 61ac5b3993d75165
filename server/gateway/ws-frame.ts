// A server-to-client WebSocket frame (RFC 6455 §5.2) built once per broadcast and written as-is to every
// member's socket: ws would otherwise build a header and go through cork/writev for each socket.
// Server frames are never masked; plait sends final binary frames only and never compresses.

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

/** The header size of an unmasked frame, from its second byte (the 7-bit length). */
export function frameHeaderLength(secondByte: number): number {
  const length7 = secondByte & 0x7f
  return length7 < 126 ? 2 : length7 === 126 ? 4 : 10
}

/** The payload size of a frame made by encodeBinaryFrame (for byte counters). */
export function framePayloadLength(frame: Uint8Array): number {
  return frame.byteLength - frameHeaderLength(frame[1])
}
