// What nodes tell each other over Redis pub/sub besides the log (which the append script announces):
// awareness, a query for it, a deletion, and heartbeats. Pure: bytes in, messages out.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export type BusMessage =
  /** The awareness changes of the sender's own members in one room (one turn's, as one update). */
  | { kind: 'awareness'; node: string; update: Uint8Array }
  /** The sender just started serving the room: every node answers with its members' states. */
  | { kind: 'query'; node: string }
  /** The sender deleted the room: close its members with `code` and `reason`, drop it from memory. */
  | { kind: 'deleted'; node: string; code: number; reason: string }
  /** A server-side stateless message for the room's Hocuspocus clients on every node. */
  | { kind: 'stateless'; node: string; payload: string }
  /** The sender is alive (on the nodes channel, every second). */
  | { kind: 'heartbeat'; node: string }
  /** The sender is stopping: drop what it stood for now rather than at its timeout. */
  | { kind: 'bye'; node: string }

const KINDS = ['awareness', 'query', 'deleted', 'heartbeat', 'bye', 'stateless'] as const

export function encodeBusMessage(message: BusMessage): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeUint8(encoder, KINDS.indexOf(message.kind))
  encoding.writeVarString(encoder, message.node)
  if (message.kind === 'awareness') encoding.writeVarUint8Array(encoder, message.update)
  else if (message.kind === 'stateless') encoding.writeVarString(encoder, message.payload)
  else if (message.kind === 'deleted') {
    encoding.writeVarUint(encoder, message.code)
    encoding.writeVarString(encoder, message.reason)
  }
  return encoding.toUint8Array(encoder)
}

/** The message, or null for bytes that are not one (a newer node's kind, say). */
export function decodeBusMessage(bytes: Uint8Array): BusMessage | null {
  try {
    const decoder = decoding.createDecoder(bytes)
    const kind = KINDS[decoding.readUint8(decoder)]
    const node = decoding.readVarString(decoder)
    switch (kind) {
      case 'awareness':
        return { kind, node, update: decoding.readVarUint8Array(decoder) }
      case 'deleted':
        return { kind, node, code: decoding.readVarUint(decoder), reason: decoding.readVarString(decoder) }
      case 'stateless':
        return { kind, node, payload: decoding.readVarString(decoder) }
      case 'query':
      case 'heartbeat':
      case 'bye':
        return { kind, node }
      default:
        return null
    }
  } catch {
    return null
  }
}
