// Idle memory: what one more socket and one more open room cost the server in RSS.
import { type BenchClient, connectAll } from '../client.js'
import { percentileOf } from '../histogram.js'
import { ProcessSampler, rssKiB } from '../proc.js'
import type { RunContext, Scenario } from '../scenario.js'
import { sleep } from '../scenario.js'

const full = { rooms: 500, sockets: 5000 }
const quick = { rooms: 50, sockets: 500 }
const settleMs = 3000

/** Median of a few RSS samples after letting the server settle, in KiB. */
export async function settledRss(pid: number): Promise<number> {
  await sleep(settleMs)
  const samples: number[] = []
  for (let i = 0; i < 5; i++) {
    const rss = rssKiB(pid)
    if (rss !== null) samples.push(rss)
    await sleep(200)
  }
  if (samples.length === 0) throw new Error('server is gone')
  return percentileOf(samples, 50)
}

async function openClients(ctx: RunContext, from: number, to: number, rooms: number): Promise<BenchClient[]> {
  const clients: BenchClient[] = []
  for (let i = from; i < to; i++) clients.push(await ctx.client(i, `idle-${i % rooms}`))
  await connectAll(clients)
  return clients
}

export const idle: Scenario = {
  name: 'idle',
  rounds: 3,
  title: 'Idle: memory per socket and per room',
  description:
    'Server RSS (median of samples after 3 s settling) with no sockets, then one synced socket in each room, then the rest of ' +
    'the sockets spread over the same rooms. Per socket = Δ(second step) ÷ added sockets; per room = Δ(first step) ÷ rooms − per socket.',
  params: (q) => {
    const p = q ? quick : full
    return `${p.sockets} sockets over ${p.rooms} rooms (empty documents)`
  },
  metrics: [
    { key: 'perSocket', label: 'RSS per extra socket', unit: 'KiB', better: 'lower', digits: 1 },
    { key: 'perRoom', label: 'RSS per room (without its socket)', unit: 'KiB', better: 'lower', digits: 1 },
    { key: 'baseline', label: 'RSS with no sockets', unit: 'MiB', better: 'lower', digits: 1 },
    { key: 'total', label: 'RSS with all sockets', unit: 'MiB', better: 'lower', digits: 1 },
    { key: 'idleCpu', label: 'server CPU while idle', unit: '%', better: 'lower', digits: 2 },
    { key: 'syncP99', label: 'connect → synced p99', unit: 'ms', better: 'lower', digits: 1 },
  ],
  async run(ctx) {
    const p = ctx.quick ? quick : full
    const server = await ctx.startServer(ctx.newDataDir())
    const clients: BenchClient[] = []
    try {
      const baseline = await settledRss(server.pid)
      ctx.log(`baseline ${(baseline / 1024).toFixed(1)} MiB; opening ${p.rooms} rooms`)
      clients.push(...(await openClients(ctx, 0, p.rooms, p.rooms)))
      const withRooms = await settledRss(server.pid)
      ctx.log(`${(withRooms / 1024).toFixed(1)} MiB; adding ${p.sockets - p.rooms} sockets`)
      clients.push(...(await openClients(ctx, p.rooms, p.sockets, p.rooms)))
      const withSockets = await settledRss(server.pid)
      const sampler = new ProcessSampler(server.pid)
      await sleep(5000)
      server.assertRunning()
      const idleCpu = sampler.stop().cpuPercent
      const open = clients.filter((c) => c.isOpen).length
      const notes =
        open < clients.length ? [`${clients.length - open} sockets were closed by the server while idle`] : []
      const perSocket = (withSockets - withRooms) / (p.sockets - p.rooms)
      return {
        metrics: {
          perSocket,
          perRoom: (withRooms - baseline) / p.rooms - perSocket,
          baseline: baseline / 1024,
          total: withSockets / 1024,
          idleCpu,
          syncP99: percentileOf(
            clients.map((c) => c.syncMillis),
            99,
          ),
        },
        notes,
      }
    } finally {
      for (const c of clients) c.terminate()
      await server.stop()
    }
  },
}
