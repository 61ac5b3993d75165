// One crowded room: raise the typing rate step by step until the room stops keeping up.
import { type BenchClient, connectAll } from '../client.js'
import { DeliveryTracker } from '../delivery.js'
import { LoopDelay } from '../loop-delay.js'
import { pace } from '../pacer.js'
import { CoreInterference, ProcessSampler } from '../proc.js'
import { closedNote, loadgenBusyPercent, type Scenario, sleep, waitFor } from '../scenario.js'

const maxP99Ms = 100
const minDelivery = 0.999

const full = {
  clients: 200,
  seconds: 5,
  steps: [200, 500, 1000, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 30000],
}
const quick = { clients: 20, seconds: 2, steps: [100, 500, 2000] }

interface Step {
  aggregate: number
  sentPerSec: number
  p50: number
  p99: number
  delivery: number
  serverCpu: number
  loadgenCpu: number
  loopMax: number
  /** CPU % other processes took on the server core and the load generator core. */
  otherServer: number
  otherLoadgen: number
  pass: boolean
}

function stepTable(steps: Step[]): string {
  const rows = [
    '| target updates/s | sent/s | p50 ms | p99 ms | delivered % | server CPU % | load gen CPU % | load gen loop delay max ms | others on core 0 / 1 % | pass |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |',
  ]
  for (const s of steps) {
    rows.push(
      `| ${s.aggregate} | ${s.sentPerSec.toFixed(0)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${(s.delivery * 100).toFixed(3)} | ${s.serverCpu.toFixed(0)} | ${s.loadgenCpu.toFixed(0)} | ${s.loopMax.toFixed(0)} | ${s.otherServer.toFixed(0)} / ${s.otherLoadgen.toFixed(0)} | ${s.pass ? 'yes' : 'no'} |`,
    )
  }
  return rows.join('\n')
}

export const hotRoom: Scenario = {
  name: 'hot-room',
  title: 'Hot room: one room, rate stepped up',
  description:
    `All clients of one room type at the same per-client rate; each step raises it. A step passes while fan-out p99 ≤ ${maxP99Ms} ms ` +
    `and delivery ≥ ${minDelivery * 100} %; the result is the highest passing aggregate rate (updates sent per second into the room).`,
  params: (q) => {
    const p = q ? quick : full
    return `1 room × ${p.clients} clients, ${p.seconds} s per step, aggregate steps ${p.steps.join(', ')} updates/s`
  },
  metrics: [
    { key: 'maxPassing', label: 'highest passing rate', unit: 'updates/s', better: 'higher', digits: 0 },
    { key: 'p99AtMax', label: 'p99 at that rate', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'serverCpuAtMax', label: 'server CPU at that rate', unit: '%', better: 'lower', digits: 1 },
    {
      key: 'loadgenCpuAtMax',
      label: 'load generator CPU at that rate',
      unit: '%',
      better: 'none',
      digits: 1,
    },
    { key: 'firstFailing', label: 'first failing step', unit: 'updates/s', better: 'none', digits: 0 },
  ],
  async run(ctx) {
    const p = ctx.quick ? quick : full
    const server = await ctx.startServer(ctx.newDataDir())
    let tracker = new DeliveryTracker()
    const clients: BenchClient[] = []
    for (let i = 0; i < p.clients; i++) {
      clients.push(await ctx.client(i, 'hot', { onMarker: (r, s, q, l) => tracker.onMarker(r, s, q, l) }))
    }
    const steps: Step[] = []
    const notes: string[] = []
    try {
      await connectAll(clients)
      for (const aggregate of p.steps) {
        tracker = new DeliveryTracker()
        const serverSampler = new ProcessSampler(server.pid)
        const loadgenSampler = new ProcessSampler(process.pid)
        const loopDelay = new LoopDelay()
        const otherOnServerCore = new CoreInterference(0, server.pid)
        const otherOnLoadgenCore = new CoreInterference(1, process.pid)
        const paced = await pace({
          clients,
          ratePerClient: aggregate / p.clients,
          durationMs: p.seconds * 1000,
          edit: (c) => {
            c.edit()
            tracker.onSent(c.id, c.seq, p.clients - 1)
          },
        })
        server.assertRunning()
        const serverCpu = serverSampler.stop().cpuPercent
        const loadgenCpu = loadgenSampler.stop().cpuPercent
        const loopMax = loopDelay.stop().maxMs
        const otherServer = otherOnServerCore.stop()
        const otherLoadgen = otherOnLoadgenCore.stop()
        await waitFor(() => tracker.complete, 3000)
        const p99 = tracker.latency.percentile(99) / 1000
        const step: Step = {
          aggregate,
          sentPerSec: paced.sent / (paced.elapsedMs / 1000),
          p50: tracker.latency.percentile(50) / 1000,
          p99,
          delivery: tracker.deliveryRatio,
          serverCpu,
          loadgenCpu,
          loopMax,
          otherServer,
          otherLoadgen,
          pass: p99 <= maxP99Ms && tracker.deliveryRatio >= minDelivery,
        }
        steps.push(step)
        ctx.log(
          `${aggregate}/s: p99 ${p99.toFixed(1)} ms, delivered ${(step.delivery * 100).toFixed(2)} %, server ${serverCpu.toFixed(0)} %, load gen ${loadgenCpu.toFixed(0)} %`,
        )
        const closed = closedNote(clients)
        if (closed !== null) {
          notes.push(`at ${aggregate}/s ${closed}`)
          break
        }
        if (!step.pass) break
        if (loadgenCpu > loadgenBusyPercent) {
          notes.push(
            `load generator CPU ${loadgenCpu.toFixed(0)} % at ${aggregate}/s: stopped there, the generator is the limit`,
          )
          break
        }
        await sleep(500)
      }
    } finally {
      for (const c of clients) c.terminate()
      await server.stop()
    }
    const passing = steps.filter((s) => s.pass)
    const best = passing.at(-1)
    const failing = steps.find((s) => !s.pass)
    if (best === undefined) notes.push(`no step passed (lowest step ${p.steps[0]} updates/s)`)
    return {
      metrics: {
        maxPassing: best?.aggregate ?? 0,
        p99AtMax: best?.p99 ?? null,
        serverCpuAtMax: best?.serverCpu ?? null,
        loadgenCpuAtMax: best?.loadgenCpu ?? null,
        firstFailing: failing?.aggregate ?? null,
      },
      notes,
      details: stepTable(steps),
    }
  },
}
