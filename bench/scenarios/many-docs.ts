// Many documents on one socket (Hocuspocus framing): what one more (socket, document) pair costs when
// the documents share sockets, against one socket per document, on the same server build in the same run.
// Each mode runs on a fresh server: the rooms are opened first (one single-document socket each), then
// the pairs are added; per pair = Δ RSS ÷ pairs added.
import { percentileOf } from '../histogram.js'
import { connectMux, MuxClient } from '../mux-client.js'
import { ProcessSampler } from '../proc.js'
import type { RunContext, Scenario } from '../scenario.js'
import { sleep } from '../scenario.js'
import { settledRss } from './idle.js'

const full = { rooms: 1000, sockets: 1000, perSocket: 20, singles: 10_000 }
const quick = { rooms: 100, sockets: 100, perSocket: 20, singles: 1000 }
type Params = typeof full

const multiplexing = new Set(['plait', 'plait-auth', 'plait-window', 'hocuspocus'])

const roomName = (i: number) => `many-docs/${i}`

interface Mode {
  baseline: number
  withRooms: number
  withPairs: number
  /** Server CPU % over a few idle seconds with every pair open. */
  idleCpu: number
  pairs: number
  /** Sockets the server closed while they were idle. */
  closed: number
  syncP99: number
}

/** A fresh server; its rooms opened by one single-document socket each; then `docsOf` sockets added. */
async function measure(
  ctx: RunContext,
  p: Params,
  docsOf: (socket: number) => string[],
  sockets: number,
): Promise<Mode> {
  const server = await ctx.startServer(ctx.newDataDir())
  const url = `ws://127.0.0.1:${await ctx.port}/`
  const token = (await ctx.target.authToken()) ?? 'bench'
  const clients: MuxClient[] = []
  try {
    const baseline = await settledRss(server.pid)
    const holders = Array.from({ length: p.rooms }, (_, i) => new MuxClient(url, [roomName(i)], token))
    clients.push(...holders)
    await connectMux(holders)
    const withRooms = await settledRss(server.pid)
    const added = Array.from({ length: sockets }, (_, s) => new MuxClient(url, docsOf(s), token))
    clients.push(...added)
    await connectMux(added)
    const withPairs = await settledRss(server.pid)
    const sampler = new ProcessSampler(server.pid)
    await sleep(3000)
    const idleCpu = sampler.stop().cpuPercent
    server.assertRunning()
    const closed = clients.filter((c) => c.closeCode !== null).length
    const syncP99 = percentileOf(
      added.map((c) => c.syncMillis),
      99,
    )
    const pairs = added.reduce((n, c) => n + c.documents.length, 0)
    ctx.log(
      `${sockets} sockets, ${pairs} pairs: ${(baseline / 1024).toFixed(1)} → ${(withRooms / 1024).toFixed(1)} → ${(withPairs / 1024).toFixed(1)} MiB`,
    )
    return { baseline, withRooms, withPairs, idleCpu, pairs, closed, syncP99 }
  } finally {
    for (const c of clients) c.terminate()
    await server.stop()
  }
}

export const manyDocs: Scenario = {
  name: 'many-docs',
  rounds: 3,
  title: 'Many documents per socket (Hocuspocus framing)',
  description:
    'Idle sockets in Hocuspocus framing. Multiplexed: each socket attaches several documents; single: one socket per document. ' +
    'Each mode on a fresh server: one single-document socket opens each room first, then the pairs are added; ' +
    'RSS per (socket, document) pair = Δ RSS ÷ pairs added (median of samples after 3 s settling).',
  params: (q) => {
    const p = q ? quick : full
    return `${p.rooms} rooms; multiplexed ${p.sockets} sockets × ${p.perSocket} documents (${p.sockets * p.perSocket} pairs); single ${p.singles} sockets × 1 document`
  },
  skips: (target) =>
    multiplexing.has(target.name) ? null : 'it has no Hocuspocus framing (many documents on one socket)',
  metrics: [
    { key: 'perPairMux', label: 'RSS per pair, multiplexed', unit: 'KiB', better: 'lower', digits: 2 },
    {
      key: 'perPairSingle',
      label: 'RSS per pair, one socket per document',
      unit: 'KiB',
      better: 'lower',
      digits: 2,
    },
    { key: 'muxRatio', label: 'multiplexed ÷ single', unit: '×', better: 'lower', digits: 2 },
    {
      key: 'perRoom',
      label: 'RSS per room (with its first socket)',
      unit: 'KiB',
      better: 'lower',
      digits: 1,
    },
    { key: 'totalMux', label: 'RSS with every pair, multiplexed', unit: 'MiB', better: 'lower', digits: 1 },
    { key: 'syncP99', label: 'connect → all documents synced p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'idleCpu', label: 'server CPU while idle, multiplexed', unit: '%', better: 'lower', digits: 2 },
  ],
  async run(ctx) {
    const p = ctx.quick ? quick : full
    // Socket s attaches rooms s, s + step, s + 2·step…: every room gets the same number of pairs.
    const step = Math.floor(p.rooms / p.perSocket)
    const mux = await measure(
      ctx,
      p,
      (s) => Array.from({ length: p.perSocket }, (_, k) => roomName((s + k * step) % p.rooms)),
      p.sockets,
    )
    const single = await measure(ctx, p, (s) => [roomName(s % p.rooms)], p.singles)
    const perPairMux = (mux.withPairs - mux.withRooms) / mux.pairs
    const perPairSingle = (single.withPairs - single.withRooms) / single.pairs
    const notes: string[] = []
    const closed = mux.closed + single.closed
    if (closed > 0) notes.push(`${closed} sockets were closed by the server`)
    return {
      metrics: {
        perPairMux,
        perPairSingle,
        muxRatio: perPairSingle > 0 ? perPairMux / perPairSingle : null,
        perRoom: (mux.withRooms - mux.baseline) / p.rooms,
        totalMux: mux.withPairs / 1024,
        syncP99: mux.syncP99,
        idleCpu: mux.idleCpu,
      },
      notes,
    }
  },
}
