// Open HTTP connections (not yet upgraded to WebSocket), capped per address and in all, so connections
// that never finish a request (slowloris) cannot take every file descriptor. Node's header and request
// timeouts close each of them within seconds; this bounds how many can be held meanwhile.
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { normalizeAddress, type TrustedProxies } from '../gateway/client-address.js'
import type { Metrics } from './metrics.js'

export interface HttpConnectionOptions {
  maxHttpConnectionsPerIp: number
  maxHttpConnections: number
}

const refusals = {
  'per-address': { status: '429 Too Many Requests', body: 'too many open connections from this address' },
  total: { status: '503 Service Unavailable', body: 'the server holds its maximum of open connections' },
} as const

const trackedBy = Symbol('plait.httpConnections')
type TrackedSocket = Socket & { [trackedBy]?: HttpConnections }
function releaseOnClose(this: Socket): void {
  ;(this as TrackedSocket)[trackedBy]?.release(this)
}

export class HttpConnections {
  private readonly perAddress = new Map<string, number>()
  // The address each counted socket is counted under ('' for a trusted proxy, counted in the total only).
  private readonly counted = new WeakMap<Socket, string>()
  private total = 0

  constructor(
    private readonly options: HttpConnectionOptions,
    private readonly proxies: TrustedProxies,
    private readonly metrics: Metrics,
  ) {}

  get open(): number {
    return this.total
  }

  /** Counts every new connection of `server`, refusing those past a cap. */
  watch(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket))
  }

  private admit(socket: Socket): void {
    const peer = normalizeAddress(socket.remoteAddress ?? 'unknown')
    // A trusted proxy carries many clients: only the total applies to it.
    const key = this.proxies.has(peer) ? '' : peer
    const fromPeer = key === '' ? 0 : (this.perAddress.get(key) ?? 0)
    const refusal =
      this.total >= this.options.maxHttpConnections
        ? 'total'
        : fromPeer >= this.options.maxHttpConnectionsPerIp
          ? 'per-address'
          : null
    if (refusal !== null) {
      this.metrics.countRefusedHttpConnection(refusal)
      const { status, body } = refusals[refusal]
      socket.on('error', () => socket.destroy())
      socket.end(
        `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${body.length + 1}\r\n\r\n${body}\n`,
      )
      socket.destroySoon()
      return
    }
    this.counted.set(socket, key)
    this.total++
    if (key !== '')
      this.perAddress.set(key, fromPeer + 1)
      // One shared listener, removed when the socket leaves HTTP: a closure per connection would live as
      // long as the WebSocket it becomes.
    ;(socket as TrackedSocket)[trackedBy] = this
    socket.on('close', releaseOnClose)
  }

  /** The socket left HTTP: it closed, or became a WebSocket (the per-address socket limits count it then). */
  release(socket: Socket): void {
    const key = this.counted.get(socket)
    if (key === undefined) return
    this.counted.delete(socket)
    socket.off('close', releaseOnClose)
    delete (socket as TrackedSocket)[trackedBy]
    this.total--
    if (key === '') return
    const count = (this.perAddress.get(key) ?? 1) - 1
    if (count <= 0) this.perAddress.delete(key)
    else this.perAddress.set(key, count)
  }
}
