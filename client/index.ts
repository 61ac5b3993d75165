/**
 * plait client helper: makes a stock y-websocket v3 `WebsocketProvider` authenticate to a plait server.
 *
 *   const WebSocketPolyfill = createAuthWebSocket({ token: () => getToken(), onAuthError: show })
 *   new WebsocketProvider(url, room, doc, { WebSocketPolyfill, shouldReconnect })
 */
export {
  type AuthReply,
  type AuthScope,
  decodeAuthReply,
  encodeAuthToken,
} from './auth-frame.js'
export {
  type AuthRefused,
  type AuthWebSocketOptions,
  type BaseWebSocket,
  type BaseWebSocketClass,
  createAuthWebSocket,
  type TokenSource,
} from './auth-websocket.js'
export { authFailureCodes, shouldReconnect } from './reconnect-policy.js'
