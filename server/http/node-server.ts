// The Node HTTP server plait listens with when it has the port to itself, with the timeouts that keep
// half-open connections (slowloris) from holding sockets for Node's default 60-300 s.
// Also how it starts listening, with the one error a user can act on in words.
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

/** Listens on `port` and `host`; a port in use rejects with a sentence that says which flag to change. */
export function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`Port ${port} on ${host} is already in use; choose another with --port.`)
          : error,
      )
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}
