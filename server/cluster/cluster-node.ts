// A node of a cluster: the cluster store (persistence/cluster/) for documents, the log follower that
// brings every loaded room what other nodes append, and the room bus (room-bus.ts) for awareness,
// deletions and heartbeats. Rooms are wired in through the document events alone: a room that loads is
// followed, one that unloads or fails is let go.
import { hostname } from 'node:os'
import type { Registry } from 'prom-client'
import { ClusterStore } from '../../persistence/cluster/cluster-store.js'
import { LogFollower } from '../../persistence/cluster/log-follower.js'
import { createRedis, type RedisClient } from '../../persistence/cluster/redis-connection.js'
import type { DocumentEvents } from '../documents/events.js'
import type { RoomRegistry } from '../documents/room-registry.js'
import type { Logger } from '../logger.js'
import type { Config } from '../options/resolve.js'
import { Closes } from '../protocol/close-codes.js'
import { ClusterStats } from './cluster-stats.js'
import { RoomBus } from './room-bus.js'

const PROBE_MS = 1000

/** A node id from the host name and pid, in the characters a node id may hold. */
export function defaultNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 40) || 'node'
  return `${host}-${process.pid}`
}

export class ClusterNode {
  readonly nodeId: string
  readonly store: ClusterStore
  readonly stats = new ClusterStats()
  private readonly subscriber: RedisClient
  private readonly publisher: RedisClient
  private readonly follower: LogFollower
  private readonly bus: RoomBus
  private probe: NodeJS.Timeout | null = null
  private probing = false
  // What the last probe found wrong, or null.
  private probeProblem: string | null = null

  /** Why the node cannot serve now (Redis or PostgreSQL unreachable), or null. */
  get problem(): string | null {
    return this.store.connectionProblem ?? this.probeProblem
  }

  constructor(
    config: Pick<Config, 'redisUrl' | 'databaseUrl' | 'nodeId' | 'clusterPrefix' | 'nodeTimeoutMs'>,
    private readonly log: Logger,
  ) {
    if (config.redisUrl === null || config.databaseUrl === null)
      throw new Error('cluster mode needs a Redis and a PostgreSQL URL')
    this.nodeId = config.nodeId ?? defaultNodeId()
    this.store = new ClusterStore({
      redisUrl: config.redisUrl,
      databaseUrl: config.databaseUrl,
      nodeId: this.nodeId,
      prefix: config.clusterPrefix,
      onCompaction: ({ ms, skipped }) => {
        if (skipped) this.stats.compactionsSkipped++
        else this.stats.compactionTime.observe(ms)
      },
    })
    // Subscriptions queue while disconnected and come back by themselves (ioredis resubscribes).
    this.subscriber = createRedis(config.redisUrl, { timeoutMs: 5000, failFast: false })
    // Awareness is ephemeral: a message that cannot go now is dropped, not queued.
    this.publisher = createRedis(config.redisUrl, { timeoutMs: 5000, failFast: true })
    for (const [name, connection] of [
      ['subscriber', this.subscriber],
      ['publisher', this.publisher],
    ] as const) {
      connection.on('error', (error: Error) =>
        log.debug({ err: error, connection: name }, 'cluster: Redis connection error'),
      )
    }
    this.follower = new LogFollower(this.store, this.subscriber)
    this.bus = new RoomBus({
      nodeId: this.nodeId,
      prefix: this.store.prefix,
      subscriber: this.subscriber,
      publisher: this.publisher,
      nodeTimeoutMs: config.nodeTimeoutMs,
      stats: this.stats,
      log,
    })
  }

  registerMetrics(registry: Registry): void {
    this.stats.register(registry)
  }

  /** Follows every room that loads, lets go of every room that leaves memory. */
  attach(registry: RoomRegistry, events: DocumentEvents): void {
    this.bus.attach(registry)
    events.on('loaded', ({ room: name }) => {
      const room = registry.get(name)
      if (room === undefined) return
      this.bus.join(name, room)
      void this.follower.follow(name, room.logPosition, {
        entries: (first, writer, updates, sentAt) => {
          const own = writer === this.nodeId
          if (!own) {
            this.stats.updatesIn += updates.length
            if (sentAt !== null) this.stats.deliveryLag.observe(Math.max(0, Date.now() - sentAt))
          }
          registry.get(name)?.followLog(first, own ? null : writer, updates)
        },
        reload: (stored) => {
          this.stats.catchUps++
          registry.get(name)?.mergeStored(stored)
        },
        lost: (stored) => {
          const room = registry.get(name)
          if (room === undefined) return
          if (!stored.exists) {
            // Deleted meanwhile (the notice was lost with the connection): nothing to write back.
            void registry.evict(name, Closes.documentDeleted, 'document deleted')
            return
          }
          this.log.warn({ room: name }, 'cluster: Redis lost updates of this room; writing it back whole')
          room.mergeStored(stored)
          room.rewriteLog(stored.position)
        },
        failed: (error) =>
          this.log.warn({ room: name, err: error }, 'cluster: cannot read the room log; retrying'),
      })
    })
    const leave = ({ room }: { room: string }) => {
      this.follower.unfollow(room)
      this.bus.leave(room)
    }
    events.on('unloaded', leave)
    events.on('failed', leave)
    events.on('deleted', ({ room, code, reason }) => this.bus.announceDeleted(room, code, reason))
  }

  /** Sends a stateless message to the room's Hocuspocus clients on the other nodes. */
  sendStateless(room: string, payload: string): void {
    this.bus.sendStateless(room, payload)
  }

  /** Connects the pub/sub side; the store is opened by the server like any store. */
  async start(): Promise<void> {
    await Promise.all([this.subscriber.connect(), this.publisher.connect()])
    await this.bus.start()
    this.probe = setInterval(() => void this.checkReachable(), PROBE_MS)
    this.probe.unref()
    await this.checkReachable()
  }

  async stop(): Promise<void> {
    if (this.probe !== null) clearInterval(this.probe)
    this.probe = null
    await this.bus.stop()
    this.follower.close()
    await Promise.all([this.subscriber, this.publisher].map((c) => c.quit().catch(() => c.disconnect())))
  }

  /** Round trips to Redis and PostgreSQL: /readyz and /metrics. */
  private async checkReachable(): Promise<void> {
    if (this.probing) return
    const down = this.store.connectionProblem
    if (down !== null) {
      if (this.probeProblem === null) this.log.error({ reason: down }, 'cluster: storage unreachable')
      this.probeProblem = down
      return
    }
    // Closed for a reopen after a failed write: store-health says why meanwhile.
    if (!this.store.isOpen) return
    this.probing = true
    try {
      const { redisMs, postgresMs } = await this.store.ping()
      this.stats.redisMs = redisMs
      this.stats.postgresMs = postgresMs
      if (this.probeProblem !== null) this.log.info('cluster: Redis and PostgreSQL reachable again')
      this.probeProblem = null
    } catch (error) {
      this.stats.redisMs = null
      this.stats.postgresMs = null
      const problem = (error as Error).message
      if (this.probeProblem === null) this.log.error({ err: error }, 'cluster: storage unreachable')
      this.probeProblem = problem
    } finally {
      this.probing = false
    }
  }
}
