// A fixed-memory latency histogram in microseconds: 10 µs buckets to 10 ms, 100 µs to 100 ms,
// 1 ms to 60 s. Millions of samples per hot-room step would not fit in an array of numbers.

const fineLimit = 10_000
const midLimit = 100_000
const coarseLimit = 60_000_000
const fineBuckets = fineLimit / 10
const midBuckets = (midLimit - fineLimit) / 100
const coarseBuckets = (coarseLimit - midLimit) / 1000

function bucketOf(us: number): number {
  if (us < fineLimit) return Math.floor(us / 10)
  if (us < midLimit) return fineBuckets + Math.floor((us - fineLimit) / 100)
  if (us < coarseLimit) return fineBuckets + midBuckets + Math.floor((us - midLimit) / 1000)
  return fineBuckets + midBuckets + coarseBuckets
}

/** Upper edge of a bucket, so percentiles never understate latency. */
function upperEdgeOf(bucket: number): number {
  if (bucket < fineBuckets) return (bucket + 1) * 10
  if (bucket < fineBuckets + midBuckets) return fineLimit + (bucket - fineBuckets + 1) * 100
  return midLimit + (bucket - fineBuckets - midBuckets + 1) * 1000
}

export class Histogram {
  private readonly counts = new Float64Array(fineBuckets + midBuckets + coarseBuckets + 1)
  count = 0
  max = 0

  record(us: number): void {
    const v = Math.max(us, 0)
    this.counts[bucketOf(v)]++
    this.count++
    if (v > this.max) this.max = v
  }

  /** The p-th percentile (0..100) in microseconds, bounded by the exact maximum; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN
    const rank = Math.ceil((p / 100) * this.count)
    let seen = 0
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]
      if (seen >= rank) return Math.min(upperEdgeOf(b), this.max)
    }
    return this.max
  }
}

/** Percentile of a small array of numbers (connect times), NaN when empty. */
export function percentileOf(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx]
}
