// How far one server process goes in idle sockets: the count is stepped up to what the per-process file
// descriptor limit allows (both the server and this load generator need one fd per socket), RSS is
// read at each step, and at the top step the server's CPU is measured over two heartbeat intervals, so
// what keeping sockets alive costs (pings and pongs) is seen per 10,000 sockets.
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { type BenchClient, connectAll } from '../client.js'
import { percentileOf } from '../histogram.js'
import { LoopDelay } from '../loop-delay.js'
import { plaitLoopDelayMaxMs } from '../plait-metrics.js'
import { ProcessSampler } from '../proc.js'
import { closedNote, type RunContext, type Scenario, sleep } from '../scenario.js'
import { settledRss } from './idle.js'

const full = { rooms: 1000, steps: [1000, 5000, 10_000, 19_000], heartbeatWindowMs: 61_000 }
const quick = { rooms: 100, steps: [200, 500, 1000], heartbeatWindowMs: 5_000 }
/** File descriptors kept free in each process for everything that is not a socket (logs, LevelDB, pipes). */
const fdReserve = 400

/** The soft limit on open files of this process (a spawned server inherits it). */
function openFileLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()
    return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out)
  } catch {
    return 1024
  }
}

interface Step {
  sockets: number
  rssMiB: number
  /** KiB per socket added since the previous step (the first step: since no sockets, rooms included). */
  perSocketKiB: number
  connectP99: number
}

function stepTable(steps: Step[]): string {
  const rows = [
    '| sockets | RSS MiB | KiB per socket added since the step before | connect p99 ms |',
    '| ---: | ---: | ---: | ---: |',
  ]
  for (const s of steps)
    rows.push(
      `| ${s.sockets} | ${s.rssMiB.toFixed(1)} | ${s.perSocketKiB.toFixed(2)} | ${s.connectP99.toFixed(1)} |`,
    )
  return rows.join('\n')
}

async function open(ctx: RunContext, from: number, to: number, rooms: number): Promise<BenchClient[]> {
  const clients: BenchClient[] = []
  for (let i = from; i < to; i++) clients.push(await ctx.client(i, `socket-limit/${i % rooms}`))
  await connectAll(clients, 64, 60_000)
  return clients
}

export const socketLimit: Scenario = {
  name: 'socket-limit',
  title: 'Socket limit: idle sockets stepped up in one process',
  description:
    'Idle synced sockets (y-websocket framing) over a fixed set of rooms, added step by step up to what the open-file limit leaves ' +
    'for the server and the load generator (one process each, 127.0.0.1). RSS is the median after 3 s settling at each step; the ' +
    'heartbeat cost is the server CPU over two ping intervals at the top step, per 10,000 sockets.',
  params: (q) => {
    const p = q ? quick : full
    return `${p.rooms} rooms, steps ${p.steps.join(', ')} sockets (capped by ulimit -n ${openFileLimit()} less ${fdReserve}), CPU window ${p.heartbeatWindowMs / 1000} s`
  },
  metrics: [
    { key: 'top', label: 'sockets at the top step', unit: 'count', better: 'higher', digits: 0 },
    {
      key: 'perSocketFirst',
      label: 'RSS per socket, first step (rooms included)',
      unit: 'KiB',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'perSocketAboveFirst',
      label: 'RSS per socket, first step → top',
      unit: 'KiB',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'perSocketTop',
      label: 'RSS per socket added, last step',
      unit: 'KiB',
      better: 'lower',
      digits: 2,
    },
    { key: 'rssTop', label: 'RSS at the top step', unit: 'MiB', better: 'lower', digits: 1 },
    {
      key: 'heartbeatCpu',
      label: 'idle CPU per 10k sockets (heartbeat)',
      unit: '%',
      better: 'lower',
      digits: 3,
    },
    {
      key: 'perRoundMs',
      label: 'CPU per ping round per 10k sockets',
      unit: 'ms',
      better: 'lower',
      digits: 1,
    },
    {
      key: 'pingsPerSocket',
      label: 'pings each socket got in the window',
      unit: 'count',
      better: 'none',
      digits: 1,
    },
    {
      key: 'probeMax',
      label: 'longest sync round trip of an idle probe, top step',
      unit: 'ms',
      better: 'lower',
      digits: 1,
    },
    { key: 'probeP99', label: 'sync round trip p99 of the probe', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'connectP99', label: 'connect → synced p99, last step', unit: 'ms', better: 'lower', digits: 1 },
    {
      key: 'serverLoopMax',
      label: "server event-loop delay max, top step (plait's /metrics)",
      unit: 'ms',
      better: 'none',
      digits: 1,
    },
    {
      key: 'loopMax',
      label: 'load generator event-loop delay max, top step',
      unit: 'ms',
      better: 'none',
      digits: 1,
    },
  ],
  async run(ctx) {
    const p = ctx.quick ? quick : full
    const ownFds = readdirSync('/proc/self/fd').length
    const cap = Math.min(openFileLimit() - fdReserve, openFileLimit() - ownFds - fdReserve)
    const steps = p.steps.filter((n) => n <= cap)
    const notes: string[] = []
    if (steps.length < p.steps.length) {
      const top = p.steps.find((n) => n > cap)
      notes.push(
        `stopped below ${top} sockets: ulimit -n is ${openFileLimit()} (this process holds ${ownFds} fds)`,
      )
    }
    const server = await ctx.startServer(ctx.newDataDir())
    const clients: BenchClient[] = []
    const measured: Step[] = []
    try {
      let previousRss = await settledRss(server.pid)
      for (const sockets of steps) {
        const added = await open(ctx, clients.length, sockets, p.rooms)
        const before = clients.length
        clients.push(...added)
        const rss = await settledRss(server.pid)
        server.assertRunning()
        const step: Step = {
          sockets,
          rssMiB: rss / 1024,
          perSocketKiB: (rss - previousRss) / (sockets - before),
          connectP99: percentileOf(
            added.map((c) => c.syncMillis),
            99,
          ),
        }
        measured.push(step)
        ctx.log(
          `${sockets} sockets: ${step.rssMiB.toFixed(1)} MiB, +${step.perSocketKiB.toFixed(2)} KiB per socket`,
        )
        previousRss = rss
      }
      const probe = await ctx.client(clients.length, 'socket-limit/probe')
      await probe.connect()
      clients.push(probe)
      await plaitLoopDelayMaxMs(server)
      const loopDelay = new LoopDelay()
      const pingsBefore = clients.reduce((n, c) => n + c.pingsReceived, 0)
      const sampler = new ProcessSampler(server.pid)
      const startedAt = performance.now()
      // One socket keeps asking for a sync: its slowest answer is the longest the server's loop was
      // busy elsewhere (a heartbeat round that pings every socket in one go shows here).
      const trips: number[] = []
      const deadline = startedAt + p.heartbeatWindowMs
      for (let i = 0; i < p.heartbeatWindowMs / 25 && performance.now() < deadline; i++) {
        trips.push(await probe.roundTrip())
        await sleep(25)
      }
      const cpu = sampler.stop().cpuPercent
      const loadgenLoopMax = loopDelay.stop().maxMs
      const serverLoopMax = await plaitLoopDelayMaxMs(server)
      const seconds = (performance.now() - startedAt) / 1000
      server.assertRunning()
      const top = clients.length - 1
      const rounds = (clients.reduce((n, c) => n + c.pingsReceived, 0) - pingsBefore) / Math.max(1, top)
      const closed = closedNote(clients)
      if (closed !== null) notes.push(closed)
      const first = measured[0]
      const last = measured.at(-1)
      return {
        metrics: {
          top,
          perSocketFirst: first?.perSocketKiB ?? null,
          perSocketAboveFirst:
            first === undefined || last === undefined || last === first
              ? null
              : ((last.rssMiB - first.rssMiB) * 1024) / (last.sockets - first.sockets),
          perSocketTop: measured.length > 1 ? (last?.perSocketKiB ?? null) : null,
          rssTop: last?.rssMiB ?? null,
          heartbeatCpu: top === 0 ? null : (cpu * 10_000) / top,
          perRoundMs: rounds < 0.5 ? null : ((cpu / 100) * seconds * 1000 * 10_000) / top / rounds,
          pingsPerSocket: rounds,
          probeMax: trips.length === 0 ? null : Math.max(...trips),
          probeP99: percentileOf(trips, 99),
          connectP99: last?.connectP99 ?? null,
          serverLoopMax,
          loopMax: loadgenLoopMax,
        },
        notes,
        details: stepTable(measured),
      }
    } finally {
      for (const c of clients) c.terminate()
      await server.stop()
    }
  },
}
