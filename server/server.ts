// createServer: the embeddable whole — store, group commit, rooms, gateway and HTTP on one port.
import type { Server as HttpServer, IncomingMessage, RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { HttpBindings } from '@hono/node-server'
import type { Hono } from 'hono'
import { LevelStore } from '../persistence/level/level-store.js'
import type { DocumentStore } from '../persistence/store.js'
import { hookIdentify, jwtIdentify } from './auth/authenticators.js'
import { verdictFor } from './auth/identity.js'
import type { Verifier } from './auth/verdict.js'
import { ClusterNode } from './cluster/cluster-node.js'
import type { DocumentHandle } from './documents/document-handle.js'
import { DocumentEvents } from './documents/events.js'
import { GroupCommit } from './documents/group-commit.js'
import type { RoomMember } from './documents/room.js'
import { RoomRegistry } from './documents/room-registry.js'
import { StoreHealth } from './documents/store-health.js'
import { Versions } from './documents/versions.js'
import { warmUpYjs } from './documents/yjs-state.js'
import { TrustedProxies } from './gateway/client-address.js'
import { Gateway } from './gateway/gateway.js'
import { sendStatelessTo } from './gateway/hocuspocus-document.js'
import { countByProtocol } from './gateway/socket-counts.js'
import { HookRunner } from './hooks/hook-runner.js'
import { createHttpApp } from './http/app.js'
import { HttpConnections } from './http/connections.js'
import { httpDepsOf } from './http/deps-of.js'
import { createRequestListener } from './http/listener.js'
import { Metrics } from './http/metrics.js'
import { createNodeServer, listenOn } from './http/node-server.js'
import { createLogger, type Logger } from './logger.js'
import { observeDocuments } from './observers.js'
import type { ServerOptions } from './options/options.js'
import { type Config, ConfigError, checkAuth, checkCluster, resolveOptions } from './options/resolve.js'
import { Closes } from './protocol/close-codes.js'
import { roomNameProblem } from './protocol/room-name.js'
import { Webhooks } from './webhooks/webhooks.js'

export type { ServerOptions } from './options/options.js'

export class PlaitServer {
  /** Every option resolved (defaults filled in), flat: what the parts read. */
  readonly config: Readonly<Config>
  readonly log: Logger
  readonly store: DocumentStore
  readonly metrics = new Metrics()
  readonly registry: RoomRegistry
  readonly gateway: Gateway
  readonly app: Hono<{ Bindings: HttpBindings }>
  readonly httpServer: HttpServer
  /** plait's HTTP answers (probes, metrics, /api, the demo) as a Node request listener. */
  readonly handleRequest: RequestListener
  private attached = false
  private readonly commit: GroupCommit<RoomMember>
  /** Whether the store is trusted with writes; after a failed write, the way back (store-health.ts). */
  readonly health: StoreHealth
  /** What the document core reports: changes (with their origin, once durable), loads, members, … */
  readonly events: DocumentEvents
  private readonly hooks: HookRunner
  /** Named versions of documents: create, list, read, restore (server/documents/versions.ts). */
  readonly versions: Versions
  readonly authMode: 'open' | 'token'
  /** Signed POSTs after changes, when --webhook-url is set (server/webhooks/). */
  readonly webhooks: Webhooks | null
  /** This node's cluster side, when --redis is set (server/cluster/). */
  readonly cluster: ClusterNode | null
  private stopping = false
  private closed: Promise<void> | null = null

  constructor(options: ServerOptions = {}) {
    const { store, logger, feeds } = options
    const extensions = options.extensions ?? []
    const authenticate = options.auth?.authenticate ?? extensions.find((e) => e.authenticate)?.authenticate
    this.config = Object.freeze(resolveOptions(options))
    checkAuth(this.config, authenticate !== undefined)
    checkCluster(this.config)
    this.log = logger ?? createLogger(this.config.logLevel)
    const identify = authenticate ? hookIdentify(authenticate) : jwtIdentify(this.config)
    this.authMode = identify === null ? 'open' : 'token'
    const verifier: Verifier | null =
      identify === null ? null : (token, room, request) => verdictFor(identify, token, room, request)
    this.cluster = this.config.redisUrl === null ? null : new ClusterNode(this.config, this.log)
    this.store =
      store ??
      this.cluster?.store ??
      new LevelStore(this.config.dataDir, { syncWrites: this.config.syncWrites })
    this.commit = new GroupCommit<RoomMember>(
      this.store,
      this.metrics,
      (error, unwritten) => this.health.writeFailed(error, unwritten),
      this.config.writeWindowMs,
    )
    this.events = new DocumentEvents((event, error) =>
      this.log.error({ event, err: error }, 'a document event listener threw; the room carries on'),
    )
    observeDocuments(this.events, this.metrics, this.log)
    this.hooks = new HookRunner(extensions, this.log)
    this.hooks.attach(this.events)
    const onLoad = extensions.some((e) => e.onLoad) ? this.hooks.load.bind(this.hooks) : undefined
    this.webhooks =
      this.config.webhookUrl === null
        ? null
        : new Webhooks({
            config: this.config,
            documents: this.events,
            openDocument: (room) => this.openDocument(room),
            metrics: this.metrics,
            log: this.log,
          })
    const roomOptions = { ...this.config, sharedLog: this.cluster !== null }
    this.registry = new RoomRegistry(this.store, this.commit, roomOptions, this.log, this.events, onLoad)
    this.cluster?.attach(this.registry, this.events)
    this.cluster?.registerMetrics(this.metrics.registry)
    this.versions = new Versions({
      store: this.store,
      openDocument: (room) => this.openDocument(room),
      loadedRoom: (room) => this.registry.get(room),
    })
    this.health = new StoreHealth(
      this.store,
      {
        failRooms: (error) => this.registry.failAll(error),
        resumeWrites: () => this.commit.resume(),
      },
      this.log,
      this.metrics,
    )
    const proxies = new TrustedProxies(this.config.trustedProxies)
    const httpConnections = new HttpConnections(this.config, proxies, this.metrics)
    this.gateway = new Gateway(
      this.config,
      this.registry,
      this.metrics,
      this.log,
      verifier,
      () => this.isReady(),
      proxies,
      httpConnections,
    )
    this.metrics.readGaugesFrom(() => ({
      openSockets: this.gateway.openSockets,
      byProtocol: countByProtocol(this.gateway.connections),
      openHttpConnections: httpConnections.open,
      loadedRooms: this.registry.size,
      storageOpen: this.store.isOpen,
      storageReady: this.health.ready,
    }))
    this.metrics.includeProcessMetrics()
    const httpDeps = httpDepsOf(this, {
      identify,
      feeds,
      isAlive: () => !this.stopping,
      notReadyReason: () => this.notReadyReason(),
    })
    this.app = createHttpApp(httpDeps)
    this.handleRequest = createRequestListener(this.app, httpDeps)
    if (options.httpServer !== undefined) {
      if (this.config.pathPrefix === '')
        throw new ConfigError('httpServer needs a pathPrefix: plait takes only the upgrades under it')
      this.attached = true
      this.httpServer = options.httpServer
      this.httpServer.on('upgrade', this.onUpgrade)
      return
    }
    this.httpServer = createNodeServer(this.config, this.handleRequest)
    httpConnections.watch(this.httpServer)
    this.httpServer.on('upgrade', this.onUpgrade)
  }

  // Attached to someone else's server, only upgrades under the path prefix are plait's.
  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const prefix = this.config.pathPrefix
    const url = request.url ?? ''
    // The prefix alone is the Hocuspocus base URL; under it, y-websocket rooms.
    const ours = url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`)
    if (this.attached && !ours) return
    this.gateway.handleUpgrade(request, socket, head)
  }

  /**
   * A live document for server-side reading and editing, loaded if nobody has it open (see
   * DocumentHandle): `await handle.transact((doc) => …)` stores and broadcasts like a client's edit
   * (origin: the server); `handle.release()` lets the room unload again.
   */
  async openDocument(room: string): Promise<DocumentHandle> {
    const problem = roomNameProblem(room)
    if (problem !== null) throw new Error(problem)
    if (!this.isReady()) throw new Error(`the server is not ready: ${this.notReadyReason()}`)
    return this.registry.open(room)
  }

  /**
   * Sends a stateless message (a Hocuspocus provider's `onStateless`) to every Hocuspocus client of a
   * loaded room, on every node of a cluster; returns how many got it on this node. y-websocket clients have no such message. Providers' own
   * stateless messages arrive as the `stateless` document event (and the onStateless hook).
   */
  sendStateless(room: string, payload: string): number {
    this.cluster?.sendStateless(room, payload)
    return sendStatelessTo(this.registry.get(room)?.members ?? [], payload)
  }

  isReady(): boolean {
    return !this.stopping && this.health.ready && this.store.isOpen && !this.cluster?.problem
  }

  private notReadyReason(): string {
    if (this.stopping) return 'the server is shutting down'
    return this.cluster?.problem ?? this.health.reason ?? 'storage is not open'
  }

  /** Opens storage and starts listening; rejects with a StoreError if the data directory is in use. */
  async listen(): Promise<AddressInfo> {
    await this.store.open()
    try {
      await this.cluster?.start()
      // The store's lock makes the data directory ours, and so the webhook outbox in it.
      await this.webhooks?.start()
      if (!this.attached) await listenOn(this.httpServer, this.config.port, this.config.host)
    } catch (error) {
      // Whatever started is stopped: a failed start leaves no connection retrying and no lock held.
      await this.webhooks?.close().catch(() => {})
      await this.cluster?.stop().catch(() => {})
      await this.store.close().catch(() => {})
      throw error
    }
    if (this.authMode === 'open') {
      this.log.warn(
        { host: this.config.host },
        'auth is off: anyone who can reach this address can read and write every document (set AUTH_SECRET to turn it on)',
      )
    }
    await this.warmUp()
    return this.address()
  }

  private async warmUp(): Promise<void> {
    const started = performance.now()
    try {
      warmUpYjs()
      // Opening the store's tables is the first read's cost; a short scan of the room index pays it now.
      await this.store.listRooms({ limit: 1000 })
      this.log.debug({ ms: Math.round(performance.now() - started) }, 'warmed up')
    } catch (error) {
      this.log.debug({ err: error }, 'warm-up skipped')
    }
  }

  /** Where the HTTP server listens (attached to a server that does not listen yet: port 0). */
  address(): AddressInfo {
    const address = this.httpServer.address()
    return typeof address === 'object' && address !== null ? address : { address: '', family: '', port: 0 }
  }

  /**
   * Graceful stop: refuse new sockets, close open ones with 1012 (clients reconnect), write and
   * compact every room, close storage. Safe to call twice. Rejects with a StorageFailedError, after
   * the stop is complete, when storage failed and had not recovered (or failed during the stop): its
   * `unwritten` says which rooms lost how many updates that only their clients still hold.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown()
    return this.closed
  }

  private async shutdown(): Promise<void> {
    // Open webhook batches become events while their rooms can still be read for the text.
    await this.webhooks?.flush()
    this.stopping = true
    this.gateway.stopAccepting()
    // An attached server is the embedder's: plait only stops taking its upgrades.
    this.httpServer.off('upgrade', this.onUpgrade)
    const httpClosed = this.attached
      ? Promise.resolve()
      : new Promise<void>((resolve) => this.httpServer.close(() => resolve()))
    if (!this.attached) this.httpServer.closeIdleConnections()
    // Sockets stay in their rooms until their clients answer the close (or 1.5 s pass): edits they sent
    // before they saw it are still applied and written.
    this.gateway.closeAll(Closes.restarting, 'server restarting; reconnect', true)
    const deadline = Date.now() + 1500
    while (this.gateway.openSockets > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    this.gateway.terminateAll()
    // No reopen while the rooms write their last batches; a failure now is reported, not recovered.
    await this.health.stop()
    await this.registry.closeAll(Closes.restarting, 'server restarting; reconnect')
    await this.commit.whenIdle()
    // Other nodes drop this one's presence now rather than at its timeout.
    await this.cluster?.stop()
    // The hooks hear the last changes and unloads, for a while: a stuck hook cannot hold the stop.
    await Promise.race([this.hooks.whenIdle(), new Promise((r) => setTimeout(r, 5000).unref())])
    // Changes made during the stop go into the outbox too (without text: the rooms are closed).
    await this.webhooks?.close()
    if (!this.attached) this.httpServer.closeAllConnections()
    await httpClosed
    await this.store.close()
    const failed = this.health.failedError()
    if (failed !== null) throw failed
  }
}

export function createServer(options: ServerOptions = {}): PlaitServer {
  return new PlaitServer(options)
}
