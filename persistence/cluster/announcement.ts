// What the append script publishes on a room's log channel (log-scripts.ts), read back: pure.

export interface Announcement {
  /** Position of the first update; the others follow consecutively. */
  first: number
  /** The node id of the writer. */
  writer: string
  /** The writer's clock when it appended (ms since epoch). */
  sentAt: number
  updates: Uint8Array[]
}

const COLON = 0x3a

/** Reads an announcement; null when the bytes are not one (nothing else publishes there). */
export function decodeAnnouncement(message: Uint8Array): Announcement | null {
  const fields: string[] = []
  let at = 0
  while (fields.length < 3) {
    const end = message.indexOf(COLON, at)
    if (end === -1) return null
    fields.push(Buffer.from(message.buffer, message.byteOffset + at, end - at).toString('latin1'))
    at = end + 1
  }
  const first = Number(fields[0])
  const sentAt = Number(fields[2])
  if (!Number.isSafeInteger(first) || first < 1 || !Number.isFinite(sentAt)) return null
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength)
  const updates: Uint8Array[] = []
  while (at < message.byteLength) {
    if (at + 4 > message.byteLength) return null
    const length = view.getUint32(at)
    at += 4
    if (at + length > message.byteLength) return null
    updates.push(message.subarray(at, at + length))
    at += length
  }
  return { first, writer: fields[1], sentAt, updates }
}

/** The position in a stream entry id `<position>-0`. */
export function positionOfId(id: Buffer | string): number {
  const text = id.toString()
  return Number(text.slice(0, text.indexOf('-')))
}
