// The parts of a WebSocket handshake that ws would otherwise refuse by itself (uncounted): checked
// before ws sees the request, so a bad handshake is refused like any other upgrade and counted.
import type { IncomingMessage } from 'node:http'

// 16 random bytes in base64 (RFC 6455 §4.1).
const KEY = /^[+/0-9A-Za-z]{22}==$/

/** Why this upgrade request is not a WebSocket handshake ws accepts, or null when it is one. */
export function handshakeProblem(request: IncomingMessage): string | null {
  if (request.method !== 'GET') return `a WebSocket handshake is a GET, not ${request.method}`
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') return 'the Upgrade header must be websocket'
  const key = request.headers['sec-websocket-key']
  if (key === undefined || !KEY.test(key)) return 'missing or invalid Sec-WebSocket-Key'
  const version = Number(request.headers['sec-websocket-version'])
  if (version !== 13 && version !== 8) return 'unsupported Sec-WebSocket-Version (use 13)'
  return null
}
