// Pub/sub between nodes beside the log: each served room's channel carries its members' awareness (one
// message per room per turn), queries for it from a node that just started serving the room, and
// deletions; the nodes channel carries a heartbeat a second. A node not heard from within the timeout
// is taken for dead, and the presence it relayed is removed from every room here.
import type { RedisClient } from '../../persistence/cluster/redis-connection.js'
import { nodesChannel, roomKeys } from '../../persistence/cluster/redis-keys.js'
import type { Room } from '../documents/room.js'
import type { RoomRegistry } from '../documents/room-registry.js'
import { sendStatelessTo } from '../gateway/hocuspocus-document.js'
import type { Logger } from '../logger.js'
import { type BusMessage, decodeBusMessage, encodeBusMessage } from './bus-messages.js'
import type { ClusterStats } from './cluster-stats.js'
import { isPeer, RemotePeer } from './remote-peer.js'

const HEARTBEAT_MS = 1000

export interface RoomBusOptions {
  nodeId: string
  prefix: string
  subscriber: RedisClient
  publisher: RedisClient
  nodeTimeoutMs: number
  stats: ClusterStats
  log: Logger
}

export class RoomBus {
  // Room by its channel, and the peers (other nodes) relaying presence into it.
  private readonly rooms = new Map<string, { name: string; peers: Map<string, RemotePeer> }>()
  private readonly lastHeard = new Map<string, number>()
  private registry: RoomRegistry | null = null
  private heartbeat: NodeJS.Timeout | null = null
  private readonly nodes: string
  private connectedOnce = false

  constructor(private readonly options: RoomBusOptions) {
    this.nodes = nodesChannel(options.prefix)
    options.subscriber.on('messageBuffer', this.onMessage)
    options.subscriber.on('ready', this.onReconnect)
  }

  attach(registry: RoomRegistry): void {
    this.registry = registry
  }

  async start(): Promise<void> {
    await this.options.subscriber.subscribe(this.nodes)
    this.beat()
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS)
    this.heartbeat.unref()
  }

  async stop(): Promise<void> {
    if (this.heartbeat !== null) clearInterval(this.heartbeat)
    this.heartbeat = null
    this.options.subscriber.off('messageBuffer', this.onMessage)
    this.options.subscriber.off('ready', this.onReconnect)
    await this.send(this.nodes, { kind: 'bye', node: this.options.nodeId })
  }

  /** The room loaded here: its members' presence goes to the other nodes, and theirs comes here. */
  join(name: string, room: Room): void {
    const channel = this.channelOf(name)
    this.rooms.set(channel, { name, peers: new Map() })
    room.awareness.peers = {
      publish: (update) => void this.send(channel, { kind: 'awareness', node: this.options.nodeId, update }),
      isPeer,
    }
    this.options.subscriber
      .subscribe(channel)
      .then(() => this.send(channel, { kind: 'query', node: this.options.nodeId }))
      .catch(() => {})
  }

  leave(name: string): void {
    const channel = this.channelOf(name)
    if (!this.rooms.delete(channel)) return
    this.options.subscriber.unsubscribe(channel).catch(() => {})
  }

  /** A stateless message for the room's Hocuspocus clients on the other nodes that serve it. */
  sendStateless(name: string, payload: string): void {
    void this.send(this.channelOf(name), { kind: 'stateless', node: this.options.nodeId, payload })
  }

  announceDeleted(name: string, code: number, reason: string): void {
    void this.send(this.channelOf(name), { kind: 'deleted', node: this.options.nodeId, code, reason })
  }

  private channelOf(name: string): string {
    return roomKeys(this.options.prefix, name).roomChannel
  }

  private async send(channel: string, message: BusMessage): Promise<void> {
    try {
      await this.options.publisher.publish(channel, Buffer.from(encodeBusMessage(message)))
      this.options.stats.messagesOut++
    } catch (error) {
      this.options.log.debug({ err: error, kind: message.kind }, 'cluster: a message to other nodes was lost')
    }
  }

  private beat(): void {
    void this.send(this.nodes, { kind: 'heartbeat', node: this.options.nodeId })
    const now = Date.now()
    for (const [node, heard] of this.lastHeard) {
      if (now - heard > this.options.nodeTimeoutMs) {
        this.options.log.warn({ node }, 'cluster: a node went silent; removing the presence it relayed')
        this.dropNode(node)
      }
    }
    this.options.stats.nodesAlive = this.lastHeard.size + 1
  }

  private dropNode(node: string): void {
    this.lastHeard.delete(node)
    this.options.stats.nodesAlive = this.lastHeard.size + 1
    for (const { name, peers } of this.rooms.values()) {
      const peer = peers.get(node)
      if (peer === undefined) continue
      peers.delete(node)
      this.registry?.get(name)?.awareness.dropPeer(peer)
    }
  }

  /** Back after a disconnect: presence other nodes sent meanwhile is lost, so ask for it again. */
  private readonly onReconnect = (): void => {
    if (!this.connectedOnce) {
      this.connectedOnce = true
      return
    }
    for (const channel of this.rooms.keys())
      void this.send(channel, { kind: 'query', node: this.options.nodeId })
  }

  private readonly onMessage = (channelBytes: Buffer, bytes: Buffer): void => {
    const channel = channelBytes.toString()
    const room = this.rooms.get(channel)
    if (room === undefined && channel !== this.nodes) return
    const message = decodeBusMessage(bytes)
    if (message === null || message.node === this.options.nodeId) return
    this.options.stats.messagesIn++
    this.lastHeard.set(message.node, Date.now())
    this.options.stats.nodesAlive = this.lastHeard.size + 1
    if (room === undefined) {
      if (message.kind === 'bye') this.dropNode(message.node)
      return
    }
    const loaded = this.registry?.get(room.name)
    if (loaded === undefined) return
    switch (message.kind) {
      case 'awareness': {
        let peer = room.peers.get(message.node)
        if (peer === undefined) {
          peer = new RemotePeer(message.node)
          room.peers.set(message.node, peer)
        }
        try {
          loaded.awareness.receiveFromPeer(peer, message.update)
        } catch (error) {
          this.options.log.warn({ room: room.name, node: message.node, err: error }, 'cluster: bad awareness')
        }
        return
      }
      case 'query': {
        const own = loaded.awareness.encodeOwn()
        if (own !== null)
          void this.send(channel, { kind: 'awareness', node: this.options.nodeId, update: own })
        return
      }
      case 'deleted':
        void this.registry?.evict(room.name, message.code, message.reason)
        return
      case 'stateless':
        sendStatelessTo(loaded.members, message.payload)
        return
      default:
        return
    }
  }
}
