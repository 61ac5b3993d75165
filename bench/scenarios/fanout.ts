// Many small rooms at a steady typing rate: how fast and how completely each edit reaches the room.
import { type BenchClient, connectAll } from '../client.js'
import { DeliveryTracker } from '../delivery.js'
import { percentileOf } from '../histogram.js'
import { LoopDelay } from '../loop-delay.js'
import { pace } from '../pacer.js'
import { plaitServerNote } from '../plait-metrics.js'
import { CoreInterference, ProcessSampler } from '../proc.js'
import { closedNote, coreShareMetrics, loadgenBusyPercent, type Scenario, waitFor } from '../scenario.js'

const full = { rooms: 100, perRoom: 10, rate: 1, seconds: 20 }
const quick = { rooms: 10, perRoom: 10, rate: 1, seconds: 5 }

export const fanout: Scenario = {
  name: 'fanout',
  rounds: 3,
  title: 'Fan-out: many rooms, steady typing',
  description:
    'Every client appends a marker to a Y.Text at a fixed rate; every other client of its room must receive it. ' +
    'Latency is send → receipt on the load generator clock; CPU and RSS are sampled while edits are sent.',
  params: (q) => {
    const p = q ? quick : full
    return `${p.rooms} rooms × ${p.perRoom} clients × ${p.rate} update/s each, ${p.seconds} s`
  },
  metrics: [
    { key: 'p50', label: 'fan-out latency p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p90', label: 'fan-out latency p90', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p99', label: 'fan-out latency p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'max', label: 'fan-out latency max', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'delivered', label: 'delivered / expected', unit: '%', better: 'higher', digits: 3 },
    { key: 'updatesPerSec', label: 'updates sent', unit: '/s', better: 'none', digits: 0 },
    { key: 'deliveriesPerSec', label: 'updates delivered', unit: '/s', better: 'none', digits: 0 },
    { key: 'framesPerSec', label: 'frames received', unit: '/s', better: 'none', digits: 0 },
    { key: 'syncP50', label: 'connect → synced p50', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'syncP99', label: 'connect → synced p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'serverCpu', label: 'server CPU', unit: '%', better: 'lower', digits: 1 },
    { key: 'serverRss', label: 'server RSS (max)', unit: 'MiB', better: 'lower', digits: 1 },
    { key: 'loadgenCpu', label: 'load generator CPU', unit: '%', better: 'none', digits: 1 },
    { key: 'loopP99', label: 'load generator event-loop delay p99', unit: 'ms', better: 'none', digits: 1 },
    { key: 'loopMax', label: 'load generator event-loop delay max', unit: 'ms', better: 'none', digits: 1 },
    ...coreShareMetrics,
  ],
  async run(ctx) {
    const p = ctx.quick ? quick : full
    const server = await ctx.startServer(ctx.newDataDir())
    const tracker = new DeliveryTracker()
    const onMarker = tracker.onMarker.bind(tracker)
    const clients: BenchClient[] = []
    // Interleave rooms so consecutive phases belong to different rooms.
    for (let i = 0; i < p.rooms * p.perRoom; i++) {
      clients.push(await ctx.client(i, `fanout-${i % p.rooms}`, { onMarker }))
    }
    try {
      ctx.log(`connecting ${clients.length} clients`)
      await connectAll(clients)
      const syncTimes = clients.map((c) => c.syncMillis)
      const framesBefore = clients.reduce((n, c) => n + c.framesReceived, 0)
      const serverSampler = new ProcessSampler(server.pid)
      const loadgenSampler = new ProcessSampler(process.pid)
      const loopDelay = new LoopDelay()
      const otherOnServerCore = new CoreInterference(0, server.pid)
      const otherOnLoadgenCore = new CoreInterference(1, process.pid)
      ctx.log(`sending for ${p.seconds} s`)
      const paced = await pace({
        clients,
        ratePerClient: p.rate,
        durationMs: p.seconds * 1000,
        edit: (c) => {
          c.edit()
          tracker.onSent(c.id, c.seq, p.perRoom - 1)
        },
      })
      server.assertRunning()
      const ownNote = await plaitServerNote(server)
      const serverUsage = serverSampler.stop()
      const loadgenUsage = loadgenSampler.stop()
      const loop = loopDelay.stop()
      const otherServerCore = otherOnServerCore.stop()
      const otherLoadgenCore = otherOnLoadgenCore.stop()
      const frames = clients.reduce((n, c) => n + c.framesReceived, 0) - framesBefore
      await waitFor(() => tracker.complete, 3000)
      const seconds = paced.elapsedMs / 1000
      const h = tracker.latency
      const notes: string[] = []
      if (loadgenUsage.cpuPercent > loadgenBusyPercent) {
        notes.push(
          `load generator CPU ${loadgenUsage.cpuPercent.toFixed(0)} %: latency may be the generator's`,
        )
      }
      const closed = closedNote(clients)
      if (closed !== null) notes.push(closed)
      if (ownNote !== null) notes.push(ownNote)
      if (paced.maxLagMs > 20) notes.push(`pacer fell up to ${paced.maxLagMs.toFixed(0)} ms behind schedule`)
      return {
        metrics: {
          p50: h.percentile(50) / 1000,
          p90: h.percentile(90) / 1000,
          p99: h.percentile(99) / 1000,
          max: h.max / 1000,
          delivered: tracker.deliveryRatio * 100,
          updatesPerSec: paced.sent / seconds,
          deliveriesPerSec: tracker.delivered / seconds,
          framesPerSec: frames / seconds,
          syncP50: percentileOf(syncTimes, 50),
          syncP99: percentileOf(syncTimes, 99),
          serverCpu: serverUsage.cpuPercent,
          serverRss: serverUsage.maxRssKiB / 1024,
          loadgenCpu: loadgenUsage.cpuPercent,
          loopP99: loop.p99Ms,
          loopMax: loop.maxMs,
          otherServerCore,
          otherLoadgenCore,
        },
        notes,
      }
    } finally {
      for (const c of clients) c.terminate()
      await server.stop()
    }
  },
}
