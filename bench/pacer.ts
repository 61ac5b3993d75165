// Open-loop edit pacing: every client edits at the same rate, phases spread evenly over one period, so the
// aggregate load is smooth. One 1 ms timer walks the clients in phase order instead of a timer per client.

export interface PaceOptions<C> {
  clients: readonly C[]
  /** Edits per second per client. */
  ratePerClient: number
  durationMs: number
  /** Makes one edit for a client. */
  edit: (client: C) => void
}

export interface PaceResult {
  sent: number
  elapsedMs: number
  /** Worst delay between when an edit was due and when it was made (the pacer falling behind). */
  maxLagMs: number
}

export function pace<C>({ clients, ratePerClient, durationMs, edit }: PaceOptions<C>): Promise<PaceResult> {
  const n = clients.length
  const periodMs = 1000 / ratePerClient
  // Bound the loop by count as well as time: never more edits than the schedule allows.
  const maxEdits = Math.ceil((durationMs / periodMs) * n) + n
  const startedAt = performance.now()
  let next = 0
  let round = 0
  let sent = 0
  let maxLagMs = 0
  const dueOf = (i: number, r: number) => r * periodMs + (i / n) * periodMs
  return new Promise((resolve) => {
    const tick = () => {
      const now = performance.now() - startedAt
      while (sent < maxEdits) {
        const due = dueOf(next, round)
        if (due >= durationMs) {
          resolve({ sent, elapsedMs: performance.now() - startedAt, maxLagMs })
          return
        }
        if (due > now) break
        if (now - due > maxLagMs) maxLagMs = now - due
        edit(clients[next])
        sent++
        next++
        if (next === n) {
          next = 0
          round++
        }
      }
      if (sent >= maxEdits || now > durationMs + 5_000) {
        resolve({ sent, elapsedMs: performance.now() - startedAt, maxLagMs })
        return
      }
      setTimeout(tick, 1)
    }
    tick()
  })
}
