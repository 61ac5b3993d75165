// WebSocket close codes of the wire contract (docs/PROTOCOL.md), by meaning.
export const Closes = {
  normal: 1000,
  protocolError: 1002,
  abnormal: 1006,
  invalidPayload: 1007,
  tooBig: 1009,
  internalError: 1011,
  restarting: 1012,
  tryAgainLater: 1013,
  unauthenticated: 4401,
  forbidden: 4403,
  /** The document (or one frame of it) is over --max-document-size; stock clients do not retry 44xx. */
  documentTooLarge: 4413,
  /** An operator deleted the document (DELETE /api/docs/:room); stock clients do not retry 44xx. */
  documentDeleted: 4404,
  authTimeout: 4408,
  rateLimited: 4429,
} as const

/** Sent with 1011 when storage is failing: stock clients keep their edits and resend them on reconnect. */
export const storageFailingReason =
  'storage is failing; your edits are kept by your client and resent when you reconnect'

/** A close reason cut to the 123 bytes of UTF-8 the WebSocket protocol allows. */
export function closeReason(text: string): string {
  const encoder = new TextEncoder()
  if (encoder.encode(text).byteLength <= 123) return text
  let end = Math.min(text.length, 123)
  while (end > 0 && encoder.encode(text.slice(0, end)).byteLength > 120) end--
  return `${text.slice(0, end)}...`
}
