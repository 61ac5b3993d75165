// What /metrics shows of a node's cluster side: messages between nodes, how late other nodes' updates
// arrive, round trips to Redis and PostgreSQL, and compactions. Plain numbers, read at scrape time.
import { Counter, Gauge, type Registry } from 'prom-client'
import { Histogram, HistogramView } from '../http/latency-histogram.js'

export class ClusterStats {
  /** Updates other nodes appended that this node applied and relayed. */
  updatesIn = 0
  /** Awareness, query, deletion and heartbeat messages, sent and received. */
  messagesOut = 0
  messagesIn = 0
  /** Rooms whose log follower is reading back what it missed. */
  catchUps = 0
  /** From another node's append to this node applying it (clocks of both nodes). */
  readonly deliveryLag = new Histogram()
  readonly compactionTime = new Histogram()
  compactionsSkipped = 0
  redisMs: number | null = null
  postgresMs: number | null = null
  nodesAlive = 0

  register(registry: Registry): void {
    const registers = [registry]
    const self = this
    new Counter({
      name: 'plait_cluster_updates_in_total',
      help: 'Updates appended by other nodes that this node applied and relayed to its clients',
      registers,
      collect() {
        this.reset()
        this.inc(self.updatesIn)
      },
    })
    new Counter({
      name: 'plait_cluster_messages_total',
      help: 'Messages between nodes (awareness, queries, deletions, heartbeats), by direction',
      registers,
      labelNames: ['direction'],
      collect() {
        this.reset()
        this.inc({ direction: 'in' }, self.messagesIn)
        this.inc({ direction: 'out' }, self.messagesOut)
      },
    })
    new Counter({
      name: 'plait_cluster_catch_ups_total',
      help: 'Times a room read back log entries whose announcement it missed (a gap, a reconnect)',
      registers,
      collect() {
        this.reset()
        this.inc(self.catchUps)
      },
    })
    new HistogramView(
      'plait_cluster_delivery_lag_seconds',
      "From another node's append to this node applying it: the cross-node part of the stream lag",
      registry,
      this.deliveryLag,
    )
    new HistogramView(
      'plait_cluster_compaction_seconds',
      'Time of one compaction: the PostgreSQL snapshot write and the Redis trim',
      registry,
      this.compactionTime,
    )
    new Counter({
      name: 'plait_cluster_compactions_skipped_total',
      help: 'Compactions left to the node holding the room’s compaction lease',
      registers,
      collect() {
        this.reset()
        this.inc(self.compactionsSkipped)
      },
    })
    const roundTrip = (name: string, help: string, read: () => number | null) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const ms = read()
          this.set(ms === null ? Number.NaN : ms / 1000)
        },
      })
    roundTrip(
      'plait_cluster_redis_seconds',
      'Last PING round trip to Redis (NaN: it failed)',
      () => self.redisMs,
    )
    roundTrip(
      'plait_cluster_postgres_seconds',
      'Last SELECT 1 round trip to PostgreSQL (NaN: it failed)',
      () => self.postgresMs,
    )
    new Gauge({
      name: 'plait_cluster_nodes',
      help: 'Nodes heard from within the node timeout, this one included',
      registers,
      collect() {
        this.set(self.nodesAlive)
      },
    })
  }
}
