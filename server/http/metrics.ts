// Process metrics as plain numbers bumped on the hot path and rendered as Prometheus text on scrape.
// No label hashing per event: counters keyed by label are plain Maps touched only on rare events.

const LATENCY_BUCKETS_MS = [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000]

export class Histogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0)
  sum = 0
  count = 0

  observe(valueMs: number): void {
    let i = 0
    while (i < LATENCY_BUCKETS_MS.length && valueMs > LATENCY_BUCKETS_MS[i]) i++
    this.counts[i]++
    this.sum += valueMs
    this.count++
  }

  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`]
    let cumulative = 0
    LATENCY_BUCKETS_MS.forEach((bound, i) => {
      cumulative += this.counts[i]
      lines.push(`${name}_bucket{le="${bound / 1000}"} ${cumulative}`)
    })
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`)
    lines.push(`${name}_sum ${this.sum / 1000}`, `${name}_count ${this.count}`)
    return lines.join('\n')
  }
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
  readonly persistLatency = new Histogram()
  readonly relayLatency = new Histogram()
  readonly closesByCode = new Map<number, number>()
  readonly rejectedUpgrades = new Map<string, number>()
  readonly refusedHttpConnections = new Map<string, number>()

  countClose(code: number): void {
    this.closesByCode.set(code, (this.closesByCode.get(code) ?? 0) + 1)
  }

  countRejectedUpgrade(reason: string): void {
    this.rejectedUpgrades.set(reason, (this.rejectedUpgrades.get(reason) ?? 0) + 1)
  }

  countRefusedHttpConnection(reason: string): void {
    this.refusedHttpConnections.set(reason, (this.refusedHttpConnections.get(reason) ?? 0) + 1)
  }

  render(gauges: {
    openSockets: number
    /** Sockets and the documents open on them, by framing (y-websocket: one document per socket). */
    byProtocol?: readonly { protocol: string; sockets: number; documents: number }[]
    openHttpConnections: number
    loadedRooms: number
    storageOpen: boolean
    storageReady: boolean
  }): string {
    const out: string[] = []
    const counter = (name: string, help: string, value: number) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`)
    const gauge = (name: string, help: string, value: number) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`)
    gauge('plait_open_sockets', 'WebSocket connections currently open', gauges.openSockets)
    const byProtocol = gauges.byProtocol ?? []
    out.push(
      '# HELP plait_sockets_by_protocol Open WebSocket connections by framing',
      '# TYPE plait_sockets_by_protocol gauge',
    )
    for (const { protocol, sockets } of byProtocol)
      out.push(`plait_sockets_by_protocol{protocol="${protocol}"} ${sockets}`)
    out.push(
      '# HELP plait_open_documents Documents open on sockets, by framing',
      '# TYPE plait_open_documents gauge',
    )
    for (const { protocol, documents } of byProtocol)
      out.push(`plait_open_documents{protocol="${protocol}"} ${documents}`)
    gauge(
      'plait_http_connections_open',
      'HTTP connections open and not upgraded to WebSocket',
      gauges.openHttpConnections,
    )
    gauge('plait_loaded_rooms', 'Rooms currently in memory', gauges.loadedRooms)
    gauge('plait_storage_open', '1 when the store is open and accepting writes', gauges.storageOpen ? 1 : 0)
    gauge(
      'plait_storage_ready',
      '0 from a failed write until the store is reopened and proven to keep writes',
      gauges.storageReady ? 1 : 0,
    )
    counter('plait_sockets_opened_total', 'WebSocket connections accepted', this.socketsOpened)
    counter('plait_frames_in_total', 'Frames received from clients', this.framesIn)
    counter('plait_bytes_in_total', 'Bytes received in frames from clients', this.bytesIn)
    counter('plait_frames_out_total', 'Frames sent to clients', this.framesOut)
    counter('plait_bytes_out_total', 'Bytes sent in frames to clients', this.bytesOut)
    counter('plait_updates_persisted_total', 'Document updates written to storage', this.updatesPersisted)
    counter('plait_persist_batches_total', 'Write batches (group commits) to storage', this.persistBatches)
    counter('plait_persist_failures_total', 'Write batches that failed', this.persistFailures)
    counter(
      'plait_storage_failures_total',
      'Times storage went from trusted to failing (a write failed)',
      this.storageFailures,
    )
    counter(
      'plait_storage_recoveries_total',
      'Times failing storage was reopened and proven to keep writes',
      this.storageRecoveries,
    )
    counter(
      'plait_storage_recovery_attempts_failed_total',
      'Reopen-and-probe attempts that failed (e.g. the disk is still full)',
      this.storageRecoveryAttemptsFailed,
    )
    counter(
      'plait_updates_unwritten_total',
      'Updates that could not be written (their clients keep them and resend them)',
      this.updatesUnwritten,
    )
    counter('plait_compactions_total', 'Room logs compacted into a snapshot', this.compactions)
    counter(
      'plait_socket_pauses_total',
      'Times a socket stopped being read (over its rate, or its pre-admission queue full)',
      this.socketPauses,
    )
    counter('plait_socket_paused_seconds_total', 'Time sockets spent not being read', this.pausedMs / 1000)
    counter(
      'plait_frames_too_large_total',
      'Frames refused for being over --max-document-size (4413)',
      this.framesTooLarge,
    )
    counter(
      'plait_awareness_ignored_total',
      'Awareness changes ignored because another socket owns that client id',
      this.awarenessIgnored,
    )
    counter(
      'plait_updates_held_back_total',
      'Updates (or parts) held back because they depend on changes the room does not have',
      this.updatesHeldBack,
    )
    counter(
      'plait_held_back_dropped_total',
      'Held-back updates dropped past their bounds (the sender was closed and resyncs)',
      this.heldBackDropped,
    )
    out.push(this.persistLatency.render('plait_persist_batch_seconds', 'Time to write one batch to storage'))
    out.push(
      this.relayLatency.render(
        'plait_relay_seconds',
        'From receiving an update to broadcasting it (apply, write to disk, pacing), per broadcast',
      ),
    )
    out.push(
      '# HELP plait_socket_closes_total Sockets closed, by close code',
      '# TYPE plait_socket_closes_total counter',
    )
    for (const [code, n] of this.closesByCode) out.push(`plait_socket_closes_total{code="${code}"} ${n}`)
    out.push(
      '# HELP plait_upgrades_rejected_total WebSocket upgrades refused before a socket existed, by reason',
      '# TYPE plait_upgrades_rejected_total counter',
    )
    for (const [reason, n] of this.rejectedUpgrades)
      out.push(`plait_upgrades_rejected_total{reason="${reason}"} ${n}`)
    out.push(
      '# HELP plait_http_connections_refused_total HTTP connections closed on arrival, by the cap they hit',
      '# TYPE plait_http_connections_refused_total counter',
    )
    for (const [reason, n] of this.refusedHttpConnections)
      out.push(`plait_http_connections_refused_total{reason="${reason}"} ${n}`)
    return `${out.join('\n')}\n`
  }
}
