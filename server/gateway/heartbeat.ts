// The one heartbeat timer for every socket: it pings the sockets a few at a time, every TICK_MS, each
// once per interval, and drops a socket whose pong is half an interval overdue. Pinging every socket in
// one go held the event loop for one ping write per socket (see bench/README.md, socket-limit), every
// room's broadcasts waiting behind it.
import { wsModule } from '../commonjs.js'
import type { GatewaySocket } from './gateway.js'

const TICK_MS = 100

export class Heartbeat {
  private readonly timer: NodeJS.Timeout
  private readonly ticks: number
  // This round's place in the sockets, the ticks it has left and how many each takes.
  private cursor: Iterator<GatewaySocket> | null = null
  private ticksLeft = 0
  private quota = 0

  constructor(
    private readonly sockets: ReadonlySet<GatewaySocket>,
    private readonly intervalMs: number,
    /** Also once per round (the per-address counters' sweep). */
    private readonly onRound: () => void,
  ) {
    const tick = Math.min(TICK_MS, intervalMs)
    this.ticks = Math.max(1, Math.round(intervalMs / tick))
    this.timer = setInterval(() => this.beat(), tick)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** One tick: the next share of this round's sockets (the last tick takes all that are left). */
  private beat(): void {
    if (this.ticksLeft === 0 || this.cursor === null) {
      // A Set's iterator is live: sockets closed meanwhile are skipped, ones opened are met at the end.
      this.cursor = this.sockets.values()
      this.ticksLeft = this.ticks
      this.quota = Math.ceil(this.sockets.size / this.ticks)
      this.onRound()
    }
    const last = --this.ticksLeft === 0
    const now = Date.now()
    // Sockets that closed or opened meanwhile move the others in the order: one pinged late in the last
    // round may come early in this one, and gets the rest of an interval before it counts as dead.
    const patience = this.intervalMs / 2
    for (let n = 0; last || n < this.quota; n++) {
      const next = this.cursor.next()
      if (next.done) break
      const connection = next.value
      if (connection.awaitingPong) {
        if (now - connection.pingedAt >= patience) connection.terminate()
        continue
      }
      connection.awaitingPong = true
      connection.pingedAt = now
      if (connection.ws.readyState === wsModule.WebSocket.OPEN) connection.ws.ping()
    }
  }
}
