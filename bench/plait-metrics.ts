// plait's own view of a run, from its /metrics histograms: how much of a fan-out latency the server
// itself spent (apply, LevelDB write, pacing), as opposed to the network and the load generator.
import type { ServerProcess } from './server-process.js'

/** The upper bound of the bucket holding the given percentile of a Prometheus histogram, in ms. */
export function bucketPercentile(text: string, name: string, percentile: number): number | null {
  const buckets: { le: number; count: number }[] = []
  for (const match of text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))) {
    buckets.push({
      le: match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]) * 1000,
      count: Number(match[2]),
    })
  }
  const total = buckets.at(-1)?.count ?? 0
  if (total === 0) return null
  const wanted = (total * percentile) / 100
  return buckets.find((b) => b.count >= wanted)?.le ?? null
}

/** A note such as "plait relay p50 ≤ 0.5 ms, p99 ≤ 1 ms; LevelDB batch p99 ≤ 0.5 ms", or null for other targets. */
export async function plaitServerNote(server: ServerProcess): Promise<string | null> {
  if (!server.target.isPlait) return null
  try {
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()
    const show = (v: number | null) =>
      v === null ? '?' : v === Number.POSITIVE_INFINITY ? '> 1 s' : `≤ ${v} ms`
    const relay50 = bucketPercentile(text, 'plait_relay_seconds', 50)
    const relay99 = bucketPercentile(text, 'plait_relay_seconds', 99)
    const batch99 = bucketPercentile(text, 'plait_persist_batch_seconds', 99)
    return `plait's own relay time (receipt → broadcast, from its /metrics): p50 ${show(relay50)}, p99 ${show(relay99)}; LevelDB batch p99 ${show(batch99)}`
  } catch {
    return null
  }
}

/** The resolution plait's /metrics samples its event loop at (eventLoopMonitoringPrecision), in ms. */
const plaitLoopResolutionMs = 100

/**
 * The longest event-loop delay plait saw since the last call (prom-client's nodejs_eventloop_lag_max_seconds,
 * reset at every scrape, less the sampling interval Node includes in it), in ms; null for other targets.
 */
export async function plaitLoopDelayMaxMs(server: ServerProcess): Promise<number | null> {
  if (!server.target.isPlait) return null
  try {
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()
    const match = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)
    return match ? Math.max(0, Number(match[1]) * 1000 - plaitLoopResolutionMs) : null
  } catch {
    return null
  }
}
