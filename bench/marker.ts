// The text each edit inserts: `@@m<client>.<seq>.<sentMicros>;`. Yjs writes string content verbatim
// (UTF-8) into updates, and merged updates concatenate it, so a receiver finds every marker in a frame
// by scanning bytes, without applying the update.

const prefix = Buffer.from('@@m', 'latin1')
const dot = 0x2e
const semicolon = 0x3b
const zero = 0x30
const nine = 0x39

export function formatMarker(client: number, seq: number, sentMicros: number): string {
  return `@@m${client}.${seq}.${sentMicros};`
}

export type MarkerHandler = (client: number, seq: number, sentMicros: number) => void

/** Calls `onMarker` for every well-formed marker in `bytes[from..]`; returns how many it found. */
export function scanMarkers(bytes: Buffer, from: number, onMarker: MarkerHandler): number {
  let found = 0
  let at = bytes.indexOf(prefix, from)
  while (at !== -1) {
    let pos = at + prefix.length
    const fields = [0, 0, 0]
    let ok = true
    for (let f = 0; f < 3 && ok; f++) {
      const stop = f < 2 ? dot : semicolon
      const begin = pos
      let value = 0
      while (pos < bytes.length && bytes[pos] >= zero && bytes[pos] <= nine) {
        value = value * 10 + (bytes[pos] - zero)
        pos++
      }
      ok = pos > begin && pos < bytes.length && bytes[pos] === stop
      fields[f] = value
      pos++
    }
    if (ok) {
      onMarker(fields[0], fields[1], fields[2])
      found++
    } else {
      pos = at + 1
    }
    at = bytes.indexOf(prefix, pos)
  }
  return found
}

/** Every marker in a plain string (for content read back from a synced Y.Doc). */
export function markersInText(text: string): Array<{ client: number; seq: number }> {
  const out: Array<{ client: number; seq: number }> = []
  for (const m of text.matchAll(/@@m(\d+)\.(\d+)\.(\d+);/g)) {
    out.push({ client: Number(m[1]), seq: Number(m[2]) })
  }
  return out
}
