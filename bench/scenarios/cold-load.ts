// Cold load: a room with a long edit history, the server restarted, then one reader opens it.
import { cpSync } from 'node:fs'
import type { BenchClient } from '../client.js'
import { percentileOf } from '../histogram.js'
import { cpuSeconds, rssKiB } from '../proc.js'
import type { RunContext, Scenario } from '../scenario.js'
import { closedNote, sleep, waitFor } from '../scenario.js'
import type { ServerProcess } from '../server-process.js'

const full = { updates: 20_000, restarts: 3 }
const quick = { updates: 2_000, restarts: 2 }
const burst = 200
const room = 'cold'

/** Waits until the server has used < 2 % CPU for 1 s (it finished writing what it buffered), at most `timeoutMs`. */
export async function waitQuiet(server: ServerProcess, timeoutMs = 30_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  let last = cpuSeconds(server.pid)
  while (performance.now() < deadline) {
    await sleep(1000)
    const now = cpuSeconds(server.pid)
    if (now === null || last === null) return false
    if (now - last < 0.02) return true
    last = now
  }
  return false
}

/** Writes `updates` edits through the server, in bursts an observer must see before the next one. */
async function writeHistory(ctx: RunContext, updates: number): Promise<string> {
  let observed = 0
  const writer = await ctx.client(1, room)
  const observer = await ctx.client(2, room, {
    onMarker: (_r, sender, seq) => {
      if (sender === 1 && seq > observed) observed = seq
    },
  })
  try {
    await writer.connect()
    await observer.connect()
    while (writer.seq < updates) {
      const end = Math.min(updates, writer.seq + burst)
      while (writer.seq < end) writer.edit()
      if (!(await waitFor(() => observed >= end, 15_000, 5))) {
        const closed = closedNote([writer, observer]) ?? 'writer and observer still open'
        throw new Error(`observer saw only ${observed} of ${end} history updates; ${closed}`)
      }
    }
    return writer.textContent()
  } finally {
    await writer.close()
    await observer.close()
    writer.terminate()
    observer.terminate()
  }
}

export const coldLoad: Scenario = {
  name: 'cold-load',
  readsStoredDocuments: true,
  title: 'Cold load: long history after a restart',
  description:
    'One writer makes N small edits through the server (one update per frame), then the server is stopped (SIGTERM once idle) ' +
    'and started again on a copy of that data (fresh for each restart). A new client connects; the time runs from opening its socket until its Y.Text ' +
    'equals the written text. Repeated over several restarts; the median is reported.',
  params: (q) => {
    const p = q ? quick : full
    return `${p.updates.toLocaleString('en-US')}-update history, ${p.restarts} restarts`
  },
  metrics: [
    { key: 'fullMs', label: 'connect → full content (median)', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'fullMaxMs', label: 'connect → full content (max)', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'syncMs', label: 'connect → sync step 2 (median)', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'readyMs', label: 'process start → ready (median)', unit: 'ms', better: 'lower', digits: 0 },
    { key: 'rss', label: 'server RSS after load', unit: 'MiB', better: 'lower', digits: 1 },
    { key: 'writeSec', label: 'time to write the history', unit: 's', better: 'lower', digits: 1 },
  ],
  async run(ctx) {
    const p = ctx.quick ? quick : full
    const dataDir = ctx.newDataDir()
    let server = await ctx.startServer(dataDir)
    const writeStart = performance.now()
    const expected = await writeHistory(ctx, p.updates)
    const writeSec = (performance.now() - writeStart) / 1000
    ctx.log(`wrote ${p.updates} updates in ${writeSec.toFixed(1)} s`)
    await waitQuiet(server)
    await server.stop()
    // Servers may compact a history when they load it (y-leveldb does), so every restart starts from a
    // copy of the data as it was written, not from what the previous load left behind.
    const pristine = `${dataDir}-pristine`
    cpSync(dataDir, pristine, { recursive: true })
    const fullTimes: number[] = []
    const syncTimes: number[] = []
    const readyTimes: number[] = []
    let rss = 0
    const notes: string[] = []
    for (let i = 0; i < p.restarts; i++) {
      const runDir = ctx.newDataDir()
      cpSync(pristine, runDir, { recursive: true })
      const startAt = performance.now()
      server = await ctx.startServer(runDir)
      readyTimes.push(performance.now() - startAt)
      let reader: BenchClient | null = null
      try {
        let complete = false
        let doneAt = 0
        const r = await ctx.client(100 + i, room, {
          apply: true,
          onApplied: () => {
            if (!complete && r.textLength >= expected.length) {
              complete = true
              doneAt = performance.now()
            }
          },
        })
        reader = r
        const connectAt = performance.now()
        await r.connect(30_000)
        if (!(await waitFor(() => complete, 30_000, 2))) {
          throw new Error(`reader got ${r.textLength} of ${expected.length} characters within 30 s`)
        }
        if (r.textContent() !== expected)
          notes.push(`restart ${i + 1}: content differs from what was written`)
        fullTimes.push(doneAt - connectAt)
        syncTimes.push(r.syncMillis)
        rss = Math.max(rss, rssKiB(server.pid) ?? 0)
      } finally {
        reader?.terminate()
        await server.stop()
      }
    }
    return {
      metrics: {
        fullMs: percentileOf(fullTimes, 50),
        fullMaxMs: Math.max(...fullTimes),
        syncMs: percentileOf(syncTimes, 50),
        readyMs: percentileOf(readyTimes, 50),
        rss: rss / 1024,
        writeSec,
      },
      notes,
    }
  },
}
