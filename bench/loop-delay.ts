// Event-loop delay of the load generator during a window: if its own loop stalls, latencies it measures
// include the stall, so it is reported next to them.
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks'

/** Sampling interval of the histogram (ms). */
const resolutionMs = 5

export class LoopDelay {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: resolutionMs })

  constructor() {
    this.histogram.enable()
  }

  /**
   * Stops monitoring; p99 and max delay in milliseconds. Node records the whole time between two ticks of
   * its sampling timer (an idle process reads ≈ 5.1 ms at a 5 ms resolution), so the interval itself is
   * taken off: what remains is how late the loop was.
   */
  stop(): { p99Ms: number; maxMs: number } {
    this.histogram.disable()
    const late = (nanos: number) => Math.max(0, nanos / 1e6 - resolutionMs)
    return { p99Ms: late(this.histogram.percentile(99)), maxMs: late(this.histogram.max) }
  }
}
