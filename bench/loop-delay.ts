// Event-loop delay of the load generator during a window: if its own loop stalls, latencies it measures
// include the stall, so it is reported next to them.
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks'

export class LoopDelay {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 5 })

  constructor() {
    this.histogram.enable()
  }

  /** Stops monitoring; p99 and max delay in milliseconds. */
  stop(): { p99Ms: number; maxMs: number } {
    this.histogram.disable()
    return { p99Ms: this.histogram.percentile(99) / 1e6, maxMs: this.histogram.max / 1e6 }
  }
}
