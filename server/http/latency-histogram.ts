// Latency histograms counted in plain arrays (one loop and three increments per observation), and shown
// to prom-client at scrape time in the same buckets, in seconds, that /metrics always had.
import { type Histogram as PromHistogram, Histogram as PromHistogramClass, type Registry } from 'prom-client'

const LATENCY_BUCKETS_MS = [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000]

export class Histogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0)
  sum = 0
  count = 0

  observe(valueMs: number): void {
    let i = 0
    while (i < LATENCY_BUCKETS_MS.length && valueMs > LATENCY_BUCKETS_MS[i]) i++
    this.counts[i]++
    this.sum += valueMs
    this.count++
  }
}

type HistogramData = Awaited<ReturnType<PromHistogram['get']>>

/**
 * A prom-client histogram that shows a plait Histogram's counts: prom-client's own observe() hashes
 * labels and keys buckets by stringified bounds, too much for once per broadcast. The registry reads
 * getForPromString() (get() for JSON); both answer from the plait counts.
 */
export class HistogramView extends PromHistogramClass {
  private readonly view: { name: string; help: string; source: Histogram }

  constructor(name: string, help: string, registry: Registry, source: Histogram) {
    super({ name, help, buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000), registers: [registry] })
    this.view = { name, help, source }
  }

  override async get(): Promise<HistogramData> {
    return this.getForPromString()
  }

  async getForPromString(): Promise<HistogramData> {
    const { name, help, source } = this.view
    const values: HistogramData['values'] = []
    let cumulative = 0
    LATENCY_BUCKETS_MS.forEach((bound, i) => {
      cumulative += source.counts[i]
      values.push({ metricName: `${name}_bucket`, labels: { le: bound / 1000 }, value: cumulative })
    })
    values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: source.count })
    values.push({ metricName: `${name}_sum`, labels: {}, value: source.sum / 1000 })
    values.push({ metricName: `${name}_count`, labels: {}, value: source.count })
    // index.d.ts types `type` as an enum, but the registry prints it: at run time it is the string.
    const type = 'histogram' as unknown as HistogramData['type']
    return { name, help, type, values, aggregator: 'sum', collect: () => {} }
  }
}
