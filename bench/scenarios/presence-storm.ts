// One crowded room where everyone moves a cursor: awareness updates, not document edits. Each client's
// state is what y-codemirror.next and Tiptap's caret send (user name and colours, cursor anchor and head
// as Yjs relative positions), a new clock per move. Latency is send → receipt of that clock, read by a
// subset of clients (observers) that walk each received update without parsing its JSON; servers may merge
// several moves of one client into the latest, so a skipped clock is not a loss, and "latest position
// delivered" checks that every observer ends with every other client's last move.
import * as encoding from 'lib0/encoding'
import * as random from 'lib0/random'
import { type BenchClient, connectAll } from '../client.js'
import { Histogram, percentileOf } from '../histogram.js'
import { LoopDelay } from '../loop-delay.js'
import { pace } from '../pacer.js'
import { CoreInterference, ProcessSampler, rssKiB } from '../proc.js'
import {
  closedNote,
  coreShareMetrics,
  loadgenBusyPercent,
  type Scenario,
  sleep,
  waitFor,
} from '../scenario.js'

const full = { clients: 500, rate: 10, seconds: 10, observers: 25 }
const quick = { clients: 50, rate: 10, seconds: 3, observers: 10 }
/** A server whose RSS passes this has stopped keeping up (its send queues grow): the moves stop there. */
const rssLimitKiB = 3 * 1024 * 1024
const drainMs = 3000
const colors = ['#30bced', '#6eeb83', '#ffbc42', '#ecd444', '#ee6352', '#9ac2c9', '#8acb88', '#1be7ff']

/** The awareness update of one cursor move: y-protocols encoding of one client's JSON state. */
function cursorUpdate(clientID: number, clock: number, index: number, move: number): Uint8Array {
  const color = colors[index % colors.length]
  const head = (move * 7) % 2000
  // y-codemirror.next's cursor: Y.relativePositionToJSON of anchor and head ({ item, assoc } in a root text).
  const state =
    `{"user":{"name":"User ${index}","color":"${color}","colorLight":"${color}33"},` +
    `"cursor":{"anchor":{"item":{"client":${clientID},"clock":${Math.max(0, head - (move % 5))}},"assoc":0},` +
    `"head":{"item":{"client":${clientID},"clock":${head}},"assoc":0}}}`
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarUint(encoder, clientID)
  encoding.writeVarUint(encoder, clock)
  encoding.writeVarString(encoder, state)
  return encoding.toUint8Array(encoder)
}

/** What observers saw: latency of each new clock of another client, and each pair's last clock. */
class PresenceTracker {
  readonly latency = new Histogram()
  received = 0
  /** Send time (µs) of each client's clock, indexed client × ring + clock % ring. */
  private readonly sentAt: Float64Array
  /** Last clock each observer saw of each client: observer × clients + client. */
  readonly lastSeen: Int32Array
  readonly lastSent: Int32Array
  private readonly indexOf = new Map<number, number>()
  measuring = false
  /** First clock of each client sent while measuring (earlier ones are not counted). */
  readonly firstMeasured: Int32Array

  constructor(
    readonly clients: number,
    readonly observers: number,
    /** Observer o is client o × every. */
    readonly every: number,
    readonly ring: number,
    clientIDs: readonly number[],
  ) {
    this.sentAt = new Float64Array(clients * ring)
    this.lastSeen = new Int32Array(observers * clients)
    this.lastSent = new Int32Array(clients)
    this.firstMeasured = new Int32Array(clients).fill(2 ** 30)
    clientIDs.forEach((id, i) => {
      this.indexOf.set(id, i)
    })
  }

  sent(index: number, clock: number): void {
    this.sentAt[index * this.ring + (clock % this.ring)] = performance.now() * 1000
    this.lastSent[index] = clock
    if (this.measuring && clock < this.firstMeasured[index]) this.firstMeasured[index] = clock
  }

  /** Reads one awareness frame for `observer` (an index < observers); its update starts at `offset`. */
  frame(observer: number, data: Buffer, offset: number): void {
    const now = performance.now() * 1000
    let pos = offset
    const read = (): number => {
      let n = 0
      let mult = 1
      for (;;) {
        const b = data[pos++]
        n += (b & 0x7f) * mult
        if (b < 0x80 || pos >= data.length) return n
        mult *= 128
      }
    }
    read() // the update's byte length (varUint8Array)
    const count = read()
    for (let i = 0; i < count && pos < data.length; i++) {
      const clientID = read()
      const clock = read()
      const length = read()
      pos += length
      const sender = this.indexOf.get(clientID)
      if (sender === undefined || sender === observer * this.every) continue
      const slot = observer * this.clients + sender
      if (clock <= this.lastSeen[slot]) continue
      this.lastSeen[slot] = clock
      if (clock < this.firstMeasured[sender] || clock > this.lastSent[sender]) continue
      if (this.lastSent[sender] - clock >= this.ring) continue
      this.received++
      this.latency.record(now - this.sentAt[sender * this.ring + (clock % this.ring)])
    }
  }

  /** Share of (observer, other client) pairs whose last seen clock is the client's last move. */
  converged(): number {
    let done = 0
    let pairs = 0
    for (let o = 0; o < this.observers; o++)
      for (let c = 0; c < this.clients; c++) {
        if (c === o * this.every) continue
        pairs++
        if (this.lastSeen[o * this.clients + c] >= this.lastSent[c]) done++
      }
    return pairs === 0 ? 1 : done / pairs
  }

  /** Moves of other clients sent while measuring, summed over observers. */
  expected(): number {
    let moves = 0
    for (let c = 0; c < this.clients; c++) {
      const first = this.firstMeasured[c]
      if (first > this.lastSent[c]) continue
      const n = this.lastSent[c] - first + 1
      const observes = c % this.every === 0 && c / this.every < this.observers
      moves += observes ? n * (this.observers - 1) : n * this.observers
    }
    return moves
  }
}

export const presenceStorm: Scenario = {
  name: 'presence-storm',
  rounds: 3,
  title: 'Presence storm: one room, everyone moving a cursor',
  description:
    'Every client of one room sends an awareness update (user name and colours, cursor anchor and head as y-codemirror sends them) ' +
    'at a fixed rate. Latency is send → receipt of each new clock, read by observers; a server may merge several moves of a client ' +
    'into the latest. CPU is the server process while the cursors move (100 % = one core).',
  params: (q) => {
    const p = q ? quick : full
    return `1 room × ${p.clients} clients × ${p.rate} cursor moves/s each (${p.clients * p.rate} awareness updates/s in), ${p.seconds} s, ${p.observers} observers`
  },
  metrics: [
    { key: 'p50', label: 'awareness latency p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p99', label: 'awareness latency p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'max', label: 'awareness latency max', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'serverCpu', label: 'server CPU', unit: '%', better: 'lower', digits: 1 },
    { key: 'closed', label: 'sockets closed by the server', unit: 'count', better: 'lower', digits: 0 },
    { key: 'converged', label: 'latest position delivered', unit: '%', better: 'higher', digits: 2 },
    {
      key: 'movesSeen',
      label: 'moves seen / sent (merged moves are skipped)',
      unit: '%',
      better: 'none',
      digits: 1,
    },
    { key: 'serverRss', label: 'server RSS (max)', unit: 'MiB', better: 'lower', digits: 1 },
    { key: 'framesPerSec', label: 'frames received per observer', unit: '/s', better: 'none', digits: 0 },
    {
      key: 'mibPerSec',
      label: 'bytes sent to all clients (observers × clients)',
      unit: 'MiB/s',
      better: 'none',
      digits: 1,
    },
    {
      key: 'serverCoreBusy',
      label: 'server core busy (server + kernel network work)',
      unit: '%',
      better: 'none',
      digits: 1,
    },
    { key: 'syncP99', label: 'connect → synced p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'loadgenCpu', label: 'load generator CPU', unit: '%', better: 'none', digits: 1 },
    { key: 'loopMax', label: 'load generator event-loop delay max', unit: 'ms', better: 'none', digits: 1 },
    ...coreShareMetrics,
  ],
  async run(ctx) {
    const p = ctx.quick ? quick : full
    const server = await ctx.startServer(ctx.newDataDir())
    const ids = new Set<number>()
    while (ids.size < p.clients) ids.add(random.uint32())
    const clientIDs = [...ids]
    const ring = 256
    if ((p.seconds + drainMs / 1000 + 2) * p.rate >= ring) throw new Error('presence-storm: ring too small')
    const tracker = new PresenceTracker(
      p.clients,
      p.observers,
      Math.floor(p.clients / p.observers),
      ring,
      clientIDs,
    )
    const clients: BenchClient[] = []
    const clocks = new Int32Array(p.clients)
    const notes: string[] = []
    try {
      // Observers are spread over the join order: a server writes a broadcast to its members in turn.
      const every = tracker.every
      for (let i = 0; i < p.clients; i++) {
        const observer = i / every
        const observes = i % every === 0 && observer < p.observers
        clients.push(
          await ctx.client(
            i,
            'presence-storm',
            observes ? { onAwareness: (_c, data, offset) => tracker.frame(observer, data, offset) } : {},
          ),
        )
      }
      await connectAll(clients)
      const move = (c: BenchClient) => {
        const clock = ++clocks[c.id]
        tracker.sent(c.id, clock)
        c.sendAwareness(cursorUpdate(clientIDs[c.id], clock, c.id, clock))
      }
      // Everyone appears first (as a provider does on connect), then the measured storm.
      for (const c of clients) move(c)
      await sleep(1000)
      const observing = clients.filter(
        (c) => c.id % tracker.every === 0 && c.id / tracker.every < p.observers,
      )
      // Only observers read frames; the rest read and drop the bytes, so the generator keeps up longer.
      for (const c of clients) if (!observing.includes(c)) c.discardFrames()
      tracker.measuring = true
      const framesBefore = observing.reduce((n, c) => n + c.framesReceived, 0)
      const bytesBefore = observing.reduce((n, c) => n + c.bytesReceived, 0)
      const serverSampler = new ProcessSampler(server.pid)
      const loadgenSampler = new ProcessSampler(process.pid)
      const loopDelay = new LoopDelay()
      const otherOnServerCore = new CoreInterference(0, server.pid)
      const otherOnLoadgenCore = new CoreInterference(1, process.pid)
      let saturatedAt: number | null = null
      const startedAt = performance.now()
      const guard = setInterval(() => {
        const rss = rssKiB(server.pid) ?? 0
        if (saturatedAt === null && rss > rssLimitKiB) saturatedAt = (performance.now() - startedAt) / 1000
      }, 250)
      const paced = await pace({
        clients,
        ratePerClient: p.rate,
        durationMs: p.seconds * 1000,
        edit: (c) => {
          if (saturatedAt === null) move(c)
        },
      })
      clearInterval(guard)
      const elapsed = paced.elapsedMs / 1000
      const frames = observing.reduce((n, c) => n + c.framesReceived, 0) - framesBefore
      const bytes = observing.reduce((n, c) => n + c.bytesReceived, 0) - bytesBefore
      const serverStats = serverSampler.stop()
      const loadgenCpu = loadgenSampler.stop().cpuPercent
      const loop = loopDelay.stop()
      const otherServerCore = otherOnServerCore.stop()
      const otherLoadgenCore = otherOnLoadgenCore.stop()
      server.assertRunning()
      await waitFor(() => tracker.converged() === 1, drainMs, 50)
      const converged = tracker.converged()
      if (saturatedAt !== null)
        notes.push(
          `saturated: server RSS passed ${rssLimitKiB / 1024 / 1024} GiB after ${(saturatedAt as number).toFixed(1)} s (its send queues grew); the cursors stopped there`,
        )
      if (converged < 1)
        notes.push(
          `${((1 - converged) * 100).toFixed(1)} % of observer/client pairs lacked the last move ${drainMs / 1000} s after the moves stopped`,
        )
      if (paced.maxLagMs > 20) notes.push(`pacer fell up to ${paced.maxLagMs.toFixed(0)} ms behind schedule`)
      if (loadgenCpu > loadgenBusyPercent)
        notes.push(`load generator CPU ${loadgenCpu.toFixed(0)} %: its latencies include its own queueing`)
      const closed = closedNote(clients)
      if (closed !== null) notes.push(closed)
      const expected = tracker.expected()
      return {
        metrics: {
          p50: tracker.latency.percentile(50) / 1000,
          p99: tracker.latency.percentile(99) / 1000,
          max: tracker.latency.max / 1000,
          serverCpu: serverStats.cpuPercent,
          closed: clients.filter((c) => c.closeCode !== null).length,
          converged: converged * 100,
          movesSeen: expected === 0 ? null : (tracker.received / expected) * 100,
          serverRss: serverStats.maxRssKiB / 1024,
          framesPerSec: frames / elapsed / observing.length,
          mibPerSec: (bytes / elapsed / 1024 / 1024) * (p.clients / observing.length),
          syncP99: percentileOf(
            clients.map((c) => c.syncMillis),
            99,
          ),
          loadgenCpu,
          loopMax: loop.maxMs,
          otherServerCore,
          otherLoadgenCore,
          serverCoreBusy: serverStats.cpuPercent + otherServerCore,
        },
        notes,
      }
    } finally {
      for (const c of clients) c.terminate()
      await server.stop()
    }
  },
}
