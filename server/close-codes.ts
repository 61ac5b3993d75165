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
  authTimeout: 4408,
  rateLimited: 4429,
} as const
