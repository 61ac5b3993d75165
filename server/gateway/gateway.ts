// The WebSocket side of the port: checks an upgrade before a socket exists (room name, origin, per-IP
// limits), hands accepted sockets to Connections (a room in the path: y-websocket) or HocuspocusSockets
// (the base URL: Hocuspocus framing), and runs the one heartbeat timer for all of them.
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { WebSocket, WebSocketServer } from 'ws'
import type { AuthVerdict, Verifier } from '../auth/verdict.js'
import type { Config } from '../cli/config.js'
import { wsModule } from '../commonjs.js'
import type { RoomRegistry } from '../documents/room-registry.js'
import type { HttpConnections } from '../http/connections.js'
import type { Metrics } from '../http/metrics.js'
import type { Logger } from '../logger.js'
import { Closes } from '../protocol/close-codes.js'
import { parseUpgradeTarget } from '../protocol/room-name.js'
import { AddressLimits } from './address-limits.js'
import { clientAddress, type TrustedProxies } from './client-address.js'
import { Connection, type ConnectionContext } from './connection.js'
import { documentSocketClass } from './document-socket.js'
import { handshakeProblem } from './handshake.js'
import { Heartbeat } from './heartbeat.js'
import { type HocuspocusContext, HocuspocusSocket } from './hocuspocus-socket.js'
import { attachListeners, connectionFor } from './socket-listeners.js'

/** An accepted socket, whichever framing it speaks. */
export type GatewaySocket = Connection | HocuspocusSocket

// Module-level: a closure made in handleUpgrade would share its scope, keeping the request alive for
// the socket's whole life (~1.5 KB per idle socket).
function destroyOnError(this: Duplex): void {
  this.destroy()
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

const statusText: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
}

export class Gateway {
  readonly connections = new Set<GatewaySocket>()
  private readonly wss: WebSocketServer
  private readonly heartbeat: Heartbeat
  private readonly authSweep: NodeJS.Timeout | null
  // Sockets still waiting for their verdict: the auth-timeout sweep looks only at these, not at every socket.
  private readonly awaitingVerdict = new Set<GatewaySocket>()
  private readonly limits: AddressLimits
  private readonly context: ConnectionContext
  private readonly hocuspocus: HocuspocusContext
  private accepting = true

  constructor(
    private readonly config: Config,
    private readonly registry: RoomRegistry,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly verifier: Verifier | null,
    private readonly isReady: () => boolean,
    private readonly proxies: TrustedProxies,
    private readonly httpConnections: HttpConnections,
  ) {
    this.limits = new AddressLimits(config)
    this.wss = new wsModule.WebSocketServer({
      noServer: true,
      maxPayload: config.maxDocumentBytes,
      perMessageDeflate: false,
      clientTracking: false,
      WebSocket: documentSocketClass((ws, bytes) => this.frameTooBig(ws, bytes)),
    })
    this.context = {
      metrics,
      limits: config,
      rate: {
        framesPerSecond: config.maxMessagesPerSecond,
        frameBurst: config.messageBurst,
        bytesPerSecond: config.maxBytesPerSecond,
        // A socket may always send one whole document at once: a first sync step 2 carries it.
        byteBurst: config.maxDocumentBytes,
      },
      verify: verifier === null ? null : (token, connection) => this.verify(token, connection),
      acquireRoom: (name) => registry.acquire(name),
      onClosed: (connection, code, reason) => this.onConnectionClosed(connection, code, reason),
      logError: (connection, error) =>
        this.logError({ room: connection.roomName, conn: connection.id }, error),
    }
    this.hocuspocus = {
      ...this.context,
      limits: config,
      verify: verifier,
      events: registry.events,
      log,
      onClosed: (socket, code, reason) => this.onConnectionClosed(socket, code, reason),
      logError: (fields, error) => this.logError(fields, error),
    }
    this.heartbeat = new Heartbeat(this.connections, config.heartbeatMs, () => this.limits.sweep())
    this.authSweep = verifier === null ? null : setInterval(() => this.expireAuth(), 250)
    this.authSweep?.unref()
  }

  private logError(fields: { room?: string; conn: number }, error: unknown): string {
    const id = Math.random().toString(36).slice(2, 10)
    this.log.error({ errorId: id, ...fields, err: error }, 'connection error')
    return id
  }

  /** A frame over --max-document-size: logged with its room and counted; returns the close reason. */
  private frameTooBig(ws: WebSocket, bytes: number | null): string {
    const limit = this.config.maxDocumentBytes
    const connection = connectionFor(ws) as GatewaySocket | undefined
    this.metrics.framesTooLarge++
    this.log.warn(
      { room: connection?.roomName, conn: connection?.id, bytes: bytes ?? undefined, limit },
      'refused a frame over --max-document-size',
    )
    const size = bytes === null ? 'over' : `${mib(bytes)}, over`
    return `document too large: a frame of ${size} the server's limit of ${mib(limit)} (--max-document-size)`
  }

  get openSockets(): number {
    return this.connections.size
  }

  // The upgrade request, kept only until the auth verdict (the hook may read its headers or cookies).
  private readonly requests = new WeakMap<Connection, IncomingMessage>()

  private verify(token: string, connection: Connection): Promise<AuthVerdict> {
    const request = this.requests.get(connection)
    if (this.verifier === null || request === undefined) return Promise.reject(new Error('no verifier'))
    this.requests.delete(connection)
    return this.verifier(token, connection.roomName, request)
  }

  /** The 'upgrade' event of the HTTP server. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError)
    // From here on the socket is a WebSocket (or refused): it leaves the open HTTP connections.
    this.httpConnections.release(socket as Socket)
    const admitted = this.checkUpgrade(request)
    if ('status' in admitted) {
      this.refuse(socket, admitted.status, admitted.reason, admitted.metric)
      return
    }
    const { room, ip, queryToken } = admitted
    if (room === null) {
      // Hocuspocus framing: each document sends its own token message (a URL token is not used).
      this.limits.socketOpened(ip)
      this.wss.handleUpgrade(request, socket, head, (ws) => this.acceptHocuspocus(ws, socket, request, ip))
      return
    }
    if (queryToken !== null)
      this.log.warn({ room }, 'token accepted from the URL query (--allow-query-token)')
    this.limits.socketOpened(ip)
    // Without auth the socket will join this room anyway: start loading it during the handshake.
    if (this.verifier === null) this.registry.acquire(room)
    this.wss.handleUpgrade(request, socket, head, (ws) =>
      this.accept(ws, socket, request, room, ip, queryToken),
    )
  }

  /** Everything decided before a socket exists: an HTTP refusal, or the room and client address. */
  private checkUpgrade(
    request: IncomingMessage,
  ):
    | { status: number; reason: string; metric: string }
    | { room: string | null; ip: string; queryToken: string | null } {
    if (!this.accepting) return { status: 503, reason: 'the server is shutting down', metric: 'shutdown' }
    if (!this.isReady()) return { status: 503, reason: 'storage is not open', metric: 'not-ready' }
    const ip = clientAddress(request, this.proxies)
    const badHandshake = handshakeProblem(request)
    if (badHandshake !== null) return { status: 400, reason: badHandshake, metric: 'bad-handshake' }
    const parsed = parseUpgradeTarget(request.url ?? '/', this.config.pathPrefix)
    if (!parsed.ok) return { status: 400, reason: parsed.reason, metric: 'bad-room' }
    const origin = request.headers.origin
    const origins = this.config.allowedOrigins
    if (origins.length > 0 && origin !== undefined && !origins.includes(origin)) {
      return { status: 403, reason: `origin ${origin} is not allowed`, metric: 'origin' }
    }
    if (this.limits.atSocketLimit(ip)) {
      return { status: 429, reason: 'too many connections from this address', metric: 'ip-sockets' }
    }
    if (!this.limits.countUpgrade(ip)) {
      return { status: 429, reason: 'too many connection attempts; slow down', metric: 'ip-rate' }
    }
    let queryToken: string | null = null
    if (this.verifier !== null && /(?:^|&)token=/.test(parsed.query)) {
      if (!this.config.allowQueryToken) {
        const reason =
          'tokens in the URL are refused (they end up in logs); send the token as the first message'
        return { status: 400, reason, metric: 'query-token' }
      }
      queryToken = new URLSearchParams(parsed.query).get('token')
    }
    return { room: parsed.protocol === 'hocuspocus' ? null : parsed.room, ip, queryToken }
  }

  private refuse(socket: Duplex, status: number, reason: string, metric: string): void {
    this.metrics.countRejectedUpgrade(metric)
    const body = `${reason}\n`
    socket.end(
      `HTTP/1.1 ${status} ${statusText[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
    this.log.info({ status, reason }, 'upgrade refused')
  }

  private accept(
    ws: WebSocket,
    socket: Duplex,
    request: IncomingMessage,
    room: string,
    ip: string,
    queryToken: string | null,
  ): void {
    this.metrics.socketsOpened++
    const connection = new Connection(ws, socket, room, ip, this.context)
    if (this.verifier !== null) this.requests.set(connection, request)
    this.listen(ws, connection)
    if (queryToken !== null) connection.receiveQueryToken(queryToken)
  }

  private acceptHocuspocus(ws: WebSocket, socket: Duplex, request: IncomingMessage, ip: string): void {
    this.metrics.socketsOpened++
    const connection = new HocuspocusSocket(
      ws,
      socket,
      ip,
      this.verifier === null ? null : request,
      this.hocuspocus,
    )
    this.listen(ws, connection)
  }

  private listen(ws: WebSocket, connection: GatewaySocket): void {
    attachListeners(ws, connection)
    this.connections.add(connection)
    if (connection.state === 'authenticating' || connection.state === 'verifying')
      this.awaitingVerdict.add(connection)
  }

  private onConnectionClosed(connection: GatewaySocket, code: number, reason: string): void {
    this.connections.delete(connection)
    this.awaitingVerdict.delete(connection)
    this.limits.socketClosed(connection.ip)
    this.metrics.countClose(code)
    this.log.info(
      {
        room: connection.roomName,
        protocol: connection instanceof HocuspocusSocket ? connection.protocol : undefined,
        conn: connection.id,
        user: connection.userId ?? undefined,
        code,
        reason: reason || undefined,
        ms: Date.now() - connection.openedAt,
      },
      'socket closed',
    )
  }

  private expireAuth(): void {
    const now = Date.now()
    for (const connection of this.awaitingVerdict) {
      if (connection.state !== 'authenticating' && connection.state !== 'verifying') {
        this.awaitingVerdict.delete(connection)
      } else if (now > connection.authDeadline) {
        this.awaitingVerdict.delete(connection)
        connection.close(Closes.authTimeout, 'no valid token in time; send the token as the first message')
      }
    }
  }

  /** Shutdown: refuse new upgrades and close every socket with `code`. */
  stopAccepting(): void {
    this.accepting = false
    this.heartbeat.stop()
    if (this.authSweep) clearInterval(this.authSweep)
  }

  /** Closes every socket; with `drain`, what clients sent before they saw the close is still applied. */
  closeAll(code: number, reason: string, drain = false): void {
    for (const connection of this.connections) connection.close(code, reason, drain)
  }

  /** Drops sockets that did not finish their close handshake. */
  terminateAll(): void {
    for (const connection of this.connections) connection.terminate()
  }
}
