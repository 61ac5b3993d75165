// The text each edit inserts: `@@m<client>.<seq>.<sentMicros>;`. Yjs writes string content verbatim
// (UTF-8) into updates, and merged updates concatenate it, so a receiver finds every marker in a frame
// by scanning bytes, without applying the update.

const at = 0x40 // '@'
const m = 0x6d
const dot = 0x2e
const semicolon = 0x3b
const zero = 0x30
const nine = 0x39

export function formatMarker(client: number, seq: number, sentMicros: number): string {
  return `@@m${client}.${seq}.${sentMicros};`
}

/** Writes a non-negative integer's decimal digits at `pos`; returns the position after them. */
function writeDigits(buf: Uint8Array, pos: number, n: number): number {
  let digits = 1
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++
  let rest = n
  for (let i = digits - 1; i >= 0; i--) {
    buf[pos + i] = zero + (rest % 10)
    rest = Math.floor(rest / 10)
  }
  return pos + digits
}

/** Writes the marker's bytes (what formatMarker returns, as ASCII) at `pos`; returns the position after it. */
export function writeMarker(
  buf: Uint8Array,
  pos: number,
  client: number,
  seq: number,
  sentMicros: number,
): number {
  buf[pos++] = at
  buf[pos++] = at
  buf[pos++] = m
  pos = writeDigits(buf, pos, client)
  buf[pos++] = dot
  pos = writeDigits(buf, pos, seq)
  buf[pos++] = dot
  pos = writeDigits(buf, pos, sentMicros)
  buf[pos++] = semicolon
  return pos
}

/** Longest marker in bytes (numbers up to 2^53). */
export const maxMarkerLength = 3 + 16 + 1 + 16 + 1 + 16 + 1

/** Receives markers from scanMarkers: an object rather than a closure, so a scan allocates nothing. */
export interface MarkerSink {
  marker(client: number, seq: number, sentMicros: number): void
}

/**
 * Calls `sink.marker` for every well-formed marker in `bytes[from..]`; returns how many it found. One pass
 * over the bytes in JS (a Horspool search for '@@m', then the three numbers parsed in place): markers sit a
 * few bytes apart, closer than a native indexOf call pays off, and nothing is allocated.
 */
export function scanMarkers(bytes: Uint8Array, from: number, sink: MarkerSink): number {
  const end = bytes.length
  let found = 0
  let pos = from
  while (pos + 2 < end) {
    // Look at the window's last byte first; most bytes are digits, which move the window by 3.
    const third = bytes[pos + 2]
    if (third !== m) {
      pos += third === at ? 1 : 3
      continue
    }
    if (bytes[pos] !== at || bytes[pos + 1] !== at) {
      pos += 3
      continue
    }
    // client '.' seq '.' sentMicros ';' (each number at least one digit)
    let p = pos + 3
    let c = 0
    let client = 0
    let digits = 0
    for (; p < end; p++, digits++) {
      c = bytes[p]
      if (c < zero || c > nine) break
      client = client * 10 + (c - zero)
    }
    if (digits === 0 || c !== dot || p >= end) {
      pos++
      continue
    }
    let seq = 0
    digits = 0
    for (p++; p < end; p++, digits++) {
      c = bytes[p]
      if (c < zero || c > nine) break
      seq = seq * 10 + (c - zero)
    }
    if (digits === 0 || c !== dot || p >= end) {
      pos++
      continue
    }
    let sent = 0
    digits = 0
    for (p++; p < end; p++, digits++) {
      c = bytes[p]
      if (c < zero || c > nine) break
      sent = sent * 10 + (c - zero)
    }
    if (digits === 0 || c !== semicolon || p >= end) {
      pos++
      continue
    }
    sink.marker(client, seq, sent)
    found++
    pos = p + 1
  }
  return found
}

/** Every marker in a plain string (for content read back from a synced Y.Doc). */
export function markersInText(text: string): Array<{ client: number; seq: number }> {
  const out: Array<{ client: number; seq: number }> = []
  for (const match of text.matchAll(/@@m(\d+)\.(\d+)\.(\d+);/g)) {
    out.push({ client: Number(match[1]), seq: Number(match[2]) })
  }
  return out
}
