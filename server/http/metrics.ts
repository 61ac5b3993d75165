// Process metrics as plain numbers bumped on the hot path; prom-client reads them only at scrape time,
// from each metric's collect(). A frame costs a field increment, never a label hash or a library call.
// Counters keyed by label are plain Maps touched only on rare events.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { Histogram, HistogramView } from './latency-histogram.js'

export { Histogram }

export interface Gauges {
  openSockets: number
  /** Sockets and the documents open on them, by framing (y-websocket: one document per socket). */
  byProtocol: readonly { protocol: string; sockets: number; documents: number }[]
  openHttpConnections: number
  loadedRooms: number
  storageOpen: boolean
  storageReady: boolean
}

const noGauges: Gauges = {
  openSockets: 0,
  byProtocol: [],
  openHttpConnections: 0,
  loadedRooms: 0,
  storageOpen: false,
  storageReady: false,
}

let processRegistry: Registry | null = null

/**
 * prom-client's default metrics (process_* and nodejs_*: CPU, memory, heap, fds, event-loop lag, GC),
 * made once per process: they describe the process, and each set starts an event-loop-delay monitor
 * and a GC observer that prom-client never stops, so several servers in one process share one set.
 */
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry()
    // Sampling the event-loop delay every 100 ms, not prom-client's 10: at 10 an idle server woke ~100
    // times a second (0.3 % of a core against under 0.1 % before); lag histograms need no finer grain.
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 100 })
  }
  return processRegistry
}

export class Metrics {
  framesIn = 0
  bytesIn = 0
  framesOut = 0
  bytesOut = 0
  updatesPersisted = 0
  persistBatches = 0
  persistFailures = 0
  compactions = 0
  storageFailures = 0
  storageRecoveries = 0
  storageRecoveryAttemptsFailed = 0
  updatesUnwritten = 0
  socketsOpened = 0
  /** Times a socket stopped being read for its rate or a full pre-admission queue, and for how long. */
  socketPauses = 0
  pausedMs = 0
  framesTooLarge = 0
  /** Awareness changes for client ids another socket owns: spoofing, or a stale reconnect. */
  awarenessIgnored = 0
  /** Updates held back for missing dependencies, and those dropped past the bounds. */
  updatesHeldBack = 0
  heldBackDropped = 0
  // Webhooks (server/webhooks/observers.ts sets these).
  webhooksDelivered = 0
  webhooksFailed = 0
  webhooksExpired = 0
  webhooksDropped = 0
  webhookQueue = 0
  readonly persistLatency = new Histogram()
  readonly relayLatency = new Histogram()
  readonly closesByCode = new Map<number, number>()
  readonly rejectedUpgrades = new Map<string, number>()
  readonly refusedHttpConnections = new Map<string, number>()
  /** This instance's plait_* metrics: one registry per server, never prom-client's global one. */
  readonly registry = new Registry()
  /** The process's default metrics, rendered after this registry's; null until included. */
  private process: Registry | null = null
  private gauges: () => Gauges = () => noGauges

  constructor() {
    defineMetrics(this, this.registry)
  }

  countClose(code: number): void {
    this.closesByCode.set(code, (this.closesByCode.get(code) ?? 0) + 1)
  }

  countRejectedUpgrade(reason: string): void {
    this.rejectedUpgrades.set(reason, (this.rejectedUpgrades.get(reason) ?? 0) + 1)
  }

  countRefusedHttpConnection(reason: string): void {
    this.refusedHttpConnections.set(reason, (this.refusedHttpConnections.get(reason) ?? 0) + 1)
  }

  /** Where the gauges are read at each scrape (the server's sockets, rooms and storage). */
  readGaugesFrom(source: () => Gauges): void {
    this.gauges = source
  }

  /** Adds the process's default metrics to what render() returns. */
  includeProcessMetrics(): void {
    this.process = processMetrics()
  }

  /** The current gauges, for the collect() callbacks. */
  readGauges(): Gauges {
    return this.gauges()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /**
   * Prometheus text of every metric. Two renders joined rather than a merged registry, so metrics that
   * an embedder registers on `registry` later are scraped too.
   */
  async render(): Promise<string> {
    if (this.process === null) return this.registry.metrics()
    const [own, process] = await Promise.all([this.registry.metrics(), this.process.metrics()])
    return `${own}\n${process}`
  }
}

/** Every plait_* metric, each reading its value from `m` when scraped. */
function defineMetrics(m: Metrics, registry: Registry): void {
  const registers = [registry]
  const gauge = (name: string, help: string, read: (g: Gauges) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(m.readGauges()))
      },
    })
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset()
        this.inc(read())
      },
    })
  const counterBy = (name: string, help: string, label: string, map: Map<string | number, number>) =>
    new Counter({
      name,
      help,
      registers,
      labelNames: [label],
      collect() {
        this.reset()
        for (const [value, n] of map) this.inc({ [label]: value }, n)
      },
    })
  gauge('plait_open_sockets', 'WebSocket connections currently open', (g) => g.openSockets)
  const byProtocol = (name: string, help: string, read: (p: Gauges['byProtocol'][number]) => number) =>
    new Gauge({
      name,
      help,
      registers,
      labelNames: ['protocol'],
      collect() {
        this.reset()
        for (const entry of m.readGauges().byProtocol) this.set({ protocol: entry.protocol }, read(entry))
      },
    })
  byProtocol('plait_sockets_by_protocol', 'Open WebSocket connections by framing', (p) => p.sockets)
  byProtocol('plait_open_documents', 'Documents open on sockets, by framing', (p) => p.documents)
  gauge(
    'plait_http_connections_open',
    'HTTP connections open and not upgraded to WebSocket',
    (g) => g.openHttpConnections,
  )
  gauge('plait_loaded_rooms', 'Rooms currently in memory', (g) => g.loadedRooms)
  gauge('plait_storage_open', '1 when the store is open and accepting writes', (g) => (g.storageOpen ? 1 : 0))
  gauge(
    'plait_storage_ready',
    '0 from a failed write until the store is reopened and proven to keep writes',
    (g) => (g.storageReady ? 1 : 0),
  )
  counter('plait_sockets_opened_total', 'WebSocket connections accepted', () => m.socketsOpened)
  counter('plait_frames_in_total', 'Frames received from clients', () => m.framesIn)
  counter('plait_bytes_in_total', 'Bytes received in frames from clients', () => m.bytesIn)
  counter('plait_frames_out_total', 'Frames sent to clients', () => m.framesOut)
  counter('plait_bytes_out_total', 'Bytes sent in frames to clients', () => m.bytesOut)
  counter('plait_updates_persisted_total', 'Document updates written to storage', () => m.updatesPersisted)
  counter('plait_persist_batches_total', 'Write batches (group commits) to storage', () => m.persistBatches)
  counter('plait_persist_failures_total', 'Write batches that failed', () => m.persistFailures)
  counter(
    'plait_storage_failures_total',
    'Times storage went from trusted to failing (a write failed)',
    () => m.storageFailures,
  )
  counter(
    'plait_storage_recoveries_total',
    'Times failing storage was reopened and proven to keep writes',
    () => m.storageRecoveries,
  )
  counter(
    'plait_storage_recovery_attempts_failed_total',
    'Reopen-and-probe attempts that failed (e.g. the disk is still full)',
    () => m.storageRecoveryAttemptsFailed,
  )
  counter(
    'plait_updates_unwritten_total',
    'Updates that could not be written (their clients keep them and resend them)',
    () => m.updatesUnwritten,
  )
  counter('plait_compactions_total', 'Room logs compacted into a snapshot', () => m.compactions)
  counter(
    'plait_socket_pauses_total',
    'Times a socket stopped being read (over its rate, or its pre-admission queue full)',
    () => m.socketPauses,
  )
  counter('plait_socket_paused_seconds_total', 'Time sockets spent not being read', () => m.pausedMs / 1000)
  counter(
    'plait_frames_too_large_total',
    'Frames refused for being over --max-document-size (4413)',
    () => m.framesTooLarge,
  )
  counter(
    'plait_awareness_ignored_total',
    'Awareness changes ignored because another socket owns that client id',
    () => m.awarenessIgnored,
  )
  counter(
    'plait_updates_held_back_total',
    'Updates (or parts) held back because they depend on changes the room does not have',
    () => m.updatesHeldBack,
  )
  counter(
    'plait_held_back_dropped_total',
    'Held-back updates dropped past their bounds (the sender was closed and resyncs)',
    () => m.heldBackDropped,
  )
  new HistogramView(
    'plait_persist_batch_seconds',
    'Time to write one batch to storage',
    registry,
    m.persistLatency,
  )
  new HistogramView(
    'plait_relay_seconds',
    'From receiving an update to broadcasting it (apply, write to disk, pacing), per broadcast',
    registry,
    m.relayLatency,
  )
  counterBy('plait_socket_closes_total', 'Sockets closed, by close code', 'code', m.closesByCode)
  counterBy(
    'plait_upgrades_rejected_total',
    'WebSocket upgrades refused before a socket existed, by reason',
    'reason',
    m.rejectedUpgrades,
  )
  counterBy(
    'plait_http_connections_refused_total',
    'HTTP connections closed on arrival, by the cap they hit',
    'reason',
    m.refusedHttpConnections,
  )
  // Webhooks: failed counts attempts (each is retried); the others count events.
  new Counter({
    name: 'plait_webhook_deliveries_total',
    help: 'Webhook events delivered or given up, and attempts that failed',
    registers,
    labelNames: ['result'],
    collect() {
      this.reset()
      this.inc({ result: 'delivered' }, m.webhooksDelivered)
      this.inc({ result: 'failed' }, m.webhooksFailed)
      this.inc({ result: 'expired' }, m.webhooksExpired)
      this.inc({ result: 'dropped' }, m.webhooksDropped)
    },
  })
  new Gauge({
    name: 'plait_webhook_queue',
    help: 'Webhook events waiting for delivery',
    registers,
    collect() {
      this.set(m.webhookQueue)
    },
  })
}
