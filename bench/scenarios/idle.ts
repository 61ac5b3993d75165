// Idle memory: what one more socket and one more open room cost the server in RSS. Both are marginal costs,
// measured after a warm-up step of rooms: the first few hundred rooms also pay one-off costs (V8 doubling its
// young generation, JIT code, pools) that do not grow with the number of rooms. RSS grows in steps of
// megabytes as V8 extends its heap, so each step spans thousands of sockets or rooms.
import { type BenchClient, connectAll } from '../client.js'
import { percentileOf } from '../histogram.js'
import { ProcessSampler, rssKiB } from '../proc.js'
import type { RunContext, Scenario } from '../scenario.js'
import { sleep } from '../scenario.js'

const full = { warmRooms: 500, rooms: 2000, sockets: 6000 }
const quick = { warmRooms: 50, rooms: 200, sockets: 600 }
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
    'Server RSS (median of samples after 3 s settling) with no sockets, after warm-up rooms (one synced socket each), after ' +
    'the measured rooms (one synced socket each), then with the rest of the sockets spread over all rooms. Per room (first ' +
    'socket included) = Δ(measured rooms) ÷ their count; per socket = Δ(last step) ÷ added sockets. The warm-up step carries ' +
    "one-off costs (V8's young generation growing, JIT code) and is reported on its own.",
  params: (q) => {
    const p = q ? quick : full
    return `${p.sockets} sockets over ${p.warmRooms} warm-up + ${p.rooms} measured rooms (empty documents)`
  },
  metrics: [
    { key: 'perSocket', label: 'RSS per extra socket', unit: 'KiB', better: 'lower', digits: 1 },
    {
      key: 'perRoom',
      label: 'RSS per room (first socket included)',
      unit: 'KiB',
      better: 'lower',
      digits: 1,
    },
    {
      key: 'warmUp',
      label: 'RSS per warm-up room (one-off costs included)',
      unit: 'KiB',
      better: 'lower',
      digits: 1,
    },
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
      const rooms = p.warmRooms + p.rooms
      const baseline = await settledRss(server.pid)
      ctx.log(`baseline ${(baseline / 1024).toFixed(1)} MiB; opening ${p.warmRooms} warm-up rooms`)
      clients.push(...(await openClients(ctx, 0, p.warmRooms, rooms)))
      const warm = await settledRss(server.pid)
      ctx.log(`${(warm / 1024).toFixed(1)} MiB; opening ${p.rooms} rooms`)
      clients.push(...(await openClients(ctx, p.warmRooms, rooms, rooms)))
      const withRooms = await settledRss(server.pid)
      ctx.log(`${(withRooms / 1024).toFixed(1)} MiB; adding ${p.sockets - rooms} sockets`)
      clients.push(...(await openClients(ctx, rooms, p.sockets, rooms)))
      const withSockets = await settledRss(server.pid)
      const sampler = new ProcessSampler(server.pid)
      await sleep(5000)
      server.assertRunning()
      const idleCpu = sampler.stop().cpuPercent
      const open = clients.filter((c) => c.isOpen).length
      const notes =
        open < clients.length ? [`${clients.length - open} sockets were closed by the server while idle`] : []
      return {
        metrics: {
          perSocket: (withSockets - withRooms) / (p.sockets - rooms),
          perRoom: (withRooms - warm) / p.rooms,
          warmUp: (warm - baseline) / p.warmRooms,
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
