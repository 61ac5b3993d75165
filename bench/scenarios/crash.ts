// Crash: `kill -9` the server while clients type, restart it on the same data, and count the edits that
// some client had already seen but that the restarted server no longer has.
import { type BenchClient, connectAll } from '../client.js'
import { markersInText } from '../marker.js'
import { pace } from '../pacer.js'
import type { Scenario } from '../scenario.js'
import { sleep, waitFor } from '../scenario.js'

const full = { rooms: 4, writers: 3, observers: 2, rate: 20, killAfterMs: 4000, seconds: 6 }
const quick = { rooms: 2, writers: 2, observers: 1, rate: 20, killAfterMs: 2000, seconds: 3 }

const key = (client: number, seq: number) => `${client}.${seq}`

export const crash: Scenario = {
  name: 'crash',
  readsStoredDocuments: true,
  title: 'Crash: kill -9 mid-stream, then restart',
  description:
    'Writers type at a steady rate while observers record every marker they receive; the server is killed with SIGKILL ' +
    'mid-stream and started again on the same data. A fresh reader per room loads the room (until 1 s passes with no new ' +
    'update); every marker an observer saw before the crash must be in it.',
  params: (q) => {
    const p = q ? quick : full
    return `${p.rooms} rooms × (${p.writers} writers at ${p.rate} updates/s + ${p.observers} observers), kill -9 after ${p.killAfterMs / 1000} s`
  },
  metrics: [
    { key: 'sent', label: 'updates sent before the kill', unit: 'count', better: 'none', digits: 0 },
    { key: 'observed', label: 'updates observed before the kill', unit: 'count', better: 'none', digits: 0 },
    {
      key: 'missing',
      label: 'observed updates missing after restart',
      unit: 'count',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'missingPct',
      label: 'observed updates missing after restart',
      unit: '%',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'restoredSent',
      label: 'sent updates present after restart',
      unit: '%',
      better: 'higher',
      digits: 2,
    },
    { key: 'recoverMs', label: 'restart → rooms loaded', unit: 'ms', better: 'lower', digits: 0 },
  ],
  async run(ctx) {
    const p = ctx.quick ? quick : full
    const dataDir = ctx.newDataDir()
    let server = await ctx.startServer(dataDir)
    const observedByRoom = Array.from({ length: p.rooms }, () => new Set<string>())
    const writers: BenchClient[] = []
    const observers: BenchClient[] = []
    const roomOf = new Map<number, number>()
    let id = 0
    for (let r = 0; r < p.rooms; r++) {
      for (let w = 0; w < p.writers; w++) {
        roomOf.set(id, r)
        writers.push(await ctx.client(id++, `crash-${r}`))
      }
      for (let o = 0; o < p.observers; o++) {
        const seen = observedByRoom[r]
        observers.push(await ctx.client(id++, `crash-${r}`, { onMarker: (_r, s, q) => seen.add(key(s, q)) }))
      }
    }
    const readers: BenchClient[] = []
    try {
      await connectAll([...writers, ...observers])
      let killed = false
      let sentBeforeKill = 0
      const pacing = pace({
        clients: writers,
        ratePerClient: p.rate,
        durationMs: p.seconds * 1000,
        edit: (c) => {
          if (killed) return
          c.edit()
          sentBeforeKill++
        },
      })
      await sleep(p.killAfterMs)
      // Snapshot what was observed at the moment of the kill; later arrivals are impossible anyway.
      killed = true
      await server.kill9()
      const observed = observedByRoom.map((set) => new Set(set))
      await pacing
      ctx.log(`killed after ${sentBeforeKill} updates; restarting`)
      const restartAt = performance.now()
      server = await ctx.startServer(dataDir)
      let lastApplied = performance.now()
      for (let r = 0; r < p.rooms; r++) {
        readers.push(
          await ctx.client(10_000 + r, `crash-${r}`, {
            apply: true,
            onApplied: () => {
              lastApplied = performance.now()
            },
          }),
        )
      }
      await connectAll(readers)
      // Servers that load a room after answering the handshake (y-websocket) send it as later updates.
      await waitFor(() => performance.now() - lastApplied > 1000, 15_000, 50)
      const recoverMs = lastApplied - restartAt
      let observedCount = 0
      let missing = 0
      let restoredSent = 0
      for (let r = 0; r < p.rooms; r++) {
        const restored = new Set(markersInText(readers[r].textContent()).map((m) => key(m.client, m.seq)))
        for (const k of observed[r]) {
          observedCount++
          if (!restored.has(k)) missing++
        }
        for (const k of restored) {
          const [client] = k.split('.')
          if (roomOf.get(Number(client)) === r) restoredSent++
        }
      }
      return {
        metrics: {
          sent: sentBeforeKill,
          observed: observedCount,
          missing,
          missingPct: observedCount === 0 ? 0 : (missing / observedCount) * 100,
          restoredSent: sentBeforeKill === 0 ? 100 : (restoredSent / sentBeforeKill) * 100,
          recoverMs,
        },
        notes:
          observedCount === 0
            ? ['no update was observed before the kill: the scenario measured nothing']
            : [],
      }
    } finally {
      for (const c of [...writers, ...observers, ...readers]) c.terminate()
      await server.stop()
    }
  },
}
