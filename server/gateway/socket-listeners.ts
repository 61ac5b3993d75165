// The ws listeners of every accepted socket, shared (this = the socket) so a socket costs no closures of
// its own; each hands the event to the socket's Connection or HocuspocusSocket.
import type { RawData, WebSocket } from 'ws'
import { Closes } from '../protocol/close-codes.js'
import type { GatewaySocket } from './gateway.js'

const connectionOf = Symbol('plait.connection')
type TaggedSocket = WebSocket & { [connectionOf]: GatewaySocket }

export const connectionFor = (ws: WebSocket) => (ws as TaggedSocket)[connectionOf]
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  // perMessageDeflate is off and binaryType is the default, so data is a single Buffer.
  connectionFor(this).receive(data as Buffer, isBinary)
}
function onPong(this: WebSocket): void {
  connectionFor(this).awaitingPong = false
}
function onClose(this: WebSocket, code: number, reason: Buffer): void {
  connectionFor(this).closed(code, reason.toString())
}
function onError(this: WebSocket, error: Error & { code?: string }): void {
  // ws closes the socket itself after a protocol error; without this listener Node would crash.
  const code =
    error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
      ? Closes.documentTooLarge
      : error.code === 'WS_ERR_INVALID_UTF8'
        ? Closes.invalidPayload
        : Closes.protocolError
  connectionFor(this).noteSocketError(code)
}

/** Tags `ws` with the socket that handles it and listens to it. */
export function attachListeners(ws: WebSocket, socket: GatewaySocket): void {
  ;(ws as TaggedSocket)[connectionOf] = socket
  ws.on('message', onMessage)
  ws.on('pong', onPong)
  ws.on('close', onClose)
  ws.on('error', onError)
}
