// What /metrics reports of the open sockets by framing: sockets, and the documents open on them (a
// y-websocket socket carries one document once it has joined its room; a Hocuspocus socket any number).
import type { GatewaySocket } from './gateway.js'
import { HocuspocusSocket } from './hocuspocus-socket.js'

export interface ProtocolCount {
  protocol: 'y-websocket' | 'hocuspocus'
  sockets: number
  documents: number
}

export function countByProtocol(sockets: Iterable<GatewaySocket>): ProtocolCount[] {
  const yws: ProtocolCount = { protocol: 'y-websocket', sockets: 0, documents: 0 }
  const hp: ProtocolCount = { protocol: 'hocuspocus', sockets: 0, documents: 0 }
  for (const socket of sockets) {
    if (socket instanceof HocuspocusSocket) {
      hp.sockets++
      hp.documents += socket.openDocuments
    } else {
      yws.sockets++
      if (socket.state === 'open') yws.documents++
    }
  }
  return [yws, hp]
}
