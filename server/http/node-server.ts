// The Node HTTP server plait listens with when it has the port to itself, with the timeouts that keep
// half-open connections (slowloris) from holding sockets for Node's default 60-300 s.
import { createServer, type RequestListener, type Server } from 'node:http'

export function createNodeServer(
  config: { readonly headersTimeoutMs: number; readonly requestTimeoutMs: number },
  listener: RequestListener,
): Server {
  return createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // Node checks the two timeouts on this interval (30 s by default): often enough that they bite
      // within a second of expiring.
      connectionsCheckingInterval: Math.min(1000, Math.max(50, config.headersTimeoutMs / 4)),
    },
    listener,
  )
}
