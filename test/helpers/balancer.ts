// A plain TCP load balancer without sticky sessions, as users put in front of several plait nodes: each new
// connection goes to the next backend round robin, and a backend that refuses is skipped. Nothing about
// HTTP or WebSocket: a client and the node it reached share one byte stream until either side goes away.
import { createServer, type Socket, connect as tcpConnect } from 'node:net'

// A backend that accepts nothing (a hung node) counts as down after this long.
const connectTimeoutMs = 5_000

export interface Balancer {
  readonly port: number
  /** http://127.0.0.1:port */
  readonly url: string
  /** ws://127.0.0.1:port */
  readonly wsUrl: string
  /** Client connections open now (connecting to a backend or piped to one). */
  readonly connections: number
  /** Stops listening and cuts every connection through it. */
  close(): Promise<void>
}

/** Listens on a free loopback port; `ports` is asked on every new connection, so backends can change. */
export async function startBalancer(ports: () => number[]): Promise<Balancer> {
  const sockets = new Set<Socket>()
  const clients = new Set<Socket>()
  let next = 0

  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }

  const route = (client: Socket, candidates: number[], first: number, tried: number): void => {
    if (client.destroyed) return
    if (tried >= candidates.length) {
      // no backend took it: the client sees its socket close and retries, as behind a real balancer
      client.destroy()
      return
    }
    const backend = tcpConnect({ host: '127.0.0.1', port: candidates[(first + tried) % candidates.length] })
    track(backend)
    backend.setTimeout(connectTimeoutMs, () => backend.destroy(new Error('backend did not accept in time')))
    const failed = (): void => {
      backend.destroy()
      route(client, candidates, first, tried + 1)
    }
    backend.once('error', failed)
    backend.once('connect', () => {
      backend.setTimeout(0)
      backend.off('error', failed)
      // errors end in 'close', which takes the other side down
      backend.on('error', () => {})
      if (client.destroyed) {
        backend.destroy()
        return
      }
      // a killed node's clients see their socket close and reconnect through the balancer
      client.once('close', () => backend.destroy())
      backend.once('close', () => client.destroy())
      client.pipe(backend)
      backend.pipe(client)
    })
  }

  const server = createServer((client) => {
    track(client)
    clients.add(client)
    client.once('close', () => clients.delete(client))
    client.on('error', () => {})
    // until a backend is connected the client stays paused: nothing it sends is read, so nothing is lost
    const candidates = ports()
    route(client, candidates, candidates.length === 0 ? 0 : next++ % candidates.length, 0)
  })

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve((server.address() as { port: number }).port)
    })
  })
  server.on('error', () => {})

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    get connections() {
      return clients.size
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}
