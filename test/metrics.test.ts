// /metrics as a Prometheus server reads it: every line parsed, every plait_* family that the hand-written
// text had (same names, types, labels and buckets) with values that follow real traffic from stock
// y-websocket providers, and prom-client's standard process metrics beside them.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { connectProvider, synced, type TestProvider, waitFor } from './helpers/clients.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

interface Family {
  type: string
  help: string
  samples: Sample[]
}

/** The text exposition format, strictly enough that a malformed line fails the test. */
function parse(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const family = (name: string) => {
    const known = families.get(name)
    if (known !== undefined) return known
    const f: Family = { type: '', help: '', samples: [] }
    families.set(name, f)
    return f
  }
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
    if (meta !== null) {
      family(meta[2])[meta[1] === 'HELP' ? 'help' : 'type'] = meta[3]
      continue
    }
    const m = sampleLine.exec(line)
    assert.ok(m !== null, `a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (m[2] ?? '').matchAll(labelPair)) labels[key] = value
    // prom-client prints NaN as "Nan" (an event-loop mean before any sample); Prometheus reads it.
    const value = /^nan$/i.test(m[3]) ? Number.NaN : Number(m[3])
    assert.ok(!Number.isNaN(value) || /^nan$/i.test(m[3]), `a number in: ${line}`)
    const base = families.has(m[1]) ? m[1] : m[1].replace(/_(bucket|sum|count)$/, '')
    assert.ok(families.has(base), `${m[1]} follows its # TYPE line`)
    family(base).samples.push({ name: m[1], labels, value })
  }
  return families
}

/** The families the hand-written render() printed, with their types. */
const plaitFamilies: Record<string, string> = {
  plait_open_sockets: 'gauge',
  plait_http_connections_open: 'gauge',
  plait_loaded_rooms: 'gauge',
  plait_storage_open: 'gauge',
  plait_storage_ready: 'gauge',
  plait_sockets_opened_total: 'counter',
  plait_frames_in_total: 'counter',
  plait_bytes_in_total: 'counter',
  plait_frames_out_total: 'counter',
  plait_bytes_out_total: 'counter',
  plait_updates_persisted_total: 'counter',
  plait_persist_batches_total: 'counter',
  plait_persist_failures_total: 'counter',
  plait_storage_failures_total: 'counter',
  plait_storage_recoveries_total: 'counter',
  plait_storage_recovery_attempts_failed_total: 'counter',
  plait_updates_unwritten_total: 'counter',
  plait_compactions_total: 'counter',
  plait_socket_pauses_total: 'counter',
  plait_socket_paused_seconds_total: 'counter',
  plait_frames_too_large_total: 'counter',
  plait_awareness_ignored_total: 'counter',
  plait_updates_held_back_total: 'counter',
  plait_held_back_dropped_total: 'counter',
  plait_persist_batch_seconds: 'histogram',
  plait_relay_seconds: 'histogram',
  plait_socket_closes_total: 'counter',
  plait_upgrades_rejected_total: 'counter',
  plait_http_connections_refused_total: 'counter',
}

const bucketBounds = [
  '0.00025',
  '0.0005',
  '0.001',
  '0.002',
  '0.005',
  '0.01',
  '0.025',
  '0.05',
  '0.1',
  '0.25',
  '1',
  '+Inf',
]

const scrape = async (s: TestServer) => {
  const response = await fetch(`${s.http}/metrics`)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return parse(await response.text())
}

/** The value of the one sample `name` (with `labels`), or undefined; `name` may be a histogram's _sum. */
const sampleOf = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) =>
  (families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, '')))?.samples.find(
    (s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels),
  )?.value

function assertHistogram(families: Map<string, Family>, name: string): void {
  const samples = families.get(name)?.samples ?? []
  const buckets = samples.filter((s) => s.name === `${name}_bucket`)
  assert.deepEqual(
    buckets.map((b) => b.labels.le),
    bucketBounds,
    `${name}: the same buckets as before`,
  )
  for (let i = 1; i < buckets.length; i++)
    assert.ok(buckets[i].value >= buckets[i - 1].value, `${name} is cumulative`)
  const count = sampleOf(families, `${name}_count`) ?? 0
  assert.ok(count >= 1, `${name} counted the traffic`)
  assert.equal(buckets.at(-1)?.value, count, `${name}: +Inf bucket = count`)
  const sum = sampleOf(families, `${name}_sum`) ?? 0
  assert.ok(sum > 0 && sum / count < 1, `${name}_sum is in seconds (${sum} for ${count})`)
}

async function trafficAndScrapes(s: TestServer, alice: TestProvider, bob: TestProvider): Promise<void> {
  await synced(alice, bob)
  alice.text.insert(0, 'hello')
  await waitFor(() => bob.text.toString() === 'hello', 'the edit to reach bob')
  await waitFor(() => s.server.metrics.updatesPersisted >= 1, 'the edit to be stored')
  const m = await scrape(s)
  for (const [name, type] of Object.entries(plaitFamilies)) {
    assert.equal(m.get(name)?.type, type, `${name} is a ${type}`)
    assert.ok((m.get(name)?.help ?? '') !== '', `${name} has help`)
  }
  assert.equal(sampleOf(m, 'plait_open_sockets'), 2)
  assert.equal(sampleOf(m, 'plait_loaded_rooms'), 1)
  assert.equal(sampleOf(m, 'plait_storage_open'), 1)
  assert.equal(sampleOf(m, 'plait_storage_ready'), 1)
  assert.equal(sampleOf(m, 'plait_sockets_opened_total'), 2)
  assert.ok((sampleOf(m, 'plait_frames_in_total') ?? 0) >= 3, 'sync steps and the update')
  assert.ok((sampleOf(m, 'plait_bytes_in_total') ?? 0) > 0)
  assert.ok((sampleOf(m, 'plait_frames_out_total') ?? 0) >= 3)
  assert.ok((sampleOf(m, 'plait_bytes_out_total') ?? 0) > 0)
  assert.ok((sampleOf(m, 'plait_updates_persisted_total') ?? 0) >= 1)
  assert.ok((sampleOf(m, 'plait_persist_batches_total') ?? 0) >= 1)
  assert.equal(sampleOf(m, 'plait_persist_failures_total'), 0)
  assert.equal(sampleOf(m, 'plait_storage_failures_total'), 0)
  assert.equal(sampleOf(m, 'plait_socket_paused_seconds_total'), 0)
  assertHistogram(m, 'plait_persist_batch_seconds')
  assertHistogram(m, 'plait_relay_seconds')
  // The standard names, unprefixed, as dashboards for Node services expect them.
  assert.ok((sampleOf(m, 'process_cpu_user_seconds_total') ?? 0) > 0)
  assert.ok((sampleOf(m, 'process_resident_memory_bytes') ?? 0) > 10_000_000)
  assert.ok((sampleOf(m, 'process_open_fds') ?? 0) > 0)
  assert.ok((sampleOf(m, 'nodejs_heap_size_used_bytes') ?? 0) > 0)
  assert.ok((sampleOf(m, 'nodejs_eventloop_lag_p99_seconds') ?? -1) >= 0)
  assert.equal(m.get('nodejs_eventloop_lag_seconds')?.type, 'gauge')
  assert.equal(m.get('nodejs_gc_duration_seconds')?.type, 'histogram')
  assert.equal(m.get('process_cpu_seconds_total')?.type, 'counter')

  alice.provider.disconnect()
  await waitFor(() => s.server.gateway.openSockets === 1, 'alice to be gone')
  const later = await scrape(s)
  const closes = later.get('plait_socket_closes_total')?.samples ?? []
  assert.equal(closes.length, 1)
  assert.match(closes[0].labels.code, /^\d+$/)
  assert.equal(closes[0].value, 1)
  assert.equal(sampleOf(later, 'plait_open_sockets'), 1)
}

describe('/metrics through prom-client', () => {
  let s: TestServer
  before(async () => {
    s = await startServer()
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('the plait_* families follow a real edit, and the process metrics are there', async () => {
    const alice = connectProvider(s.url, 'scraped')
    const bob = connectProvider(s.url, 'scraped')
    try {
      await trafficAndScrapes(s, alice, bob)
    } finally {
      alice.destroy()
      bob.destroy()
    }
  })

  test('HEAD and the Hono app answer /metrics the same way', async () => {
    const head = await fetch(`${s.http}/metrics`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.match(head.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    assert.equal(await head.text(), '')
    const viaApp = await s.server.app.request('/metrics')
    assert.match(viaApp.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    const m = parse(await viaApp.text())
    for (const name of Object.keys(plaitFamilies)) assert.ok(m.has(name), name)
    assert.ok(m.has('process_resident_memory_bytes'))
  })

  test('each server counts for itself; both show the one process', async () => {
    const other = await startServer()
    try {
      const mine = await scrape(s)
      const theirs = await scrape(other)
      assert.ok((sampleOf(mine, 'plait_sockets_opened_total') ?? 0) >= 2)
      assert.equal(sampleOf(theirs, 'plait_sockets_opened_total'), 0)
      assert.equal(sampleOf(theirs, 'plait_loaded_rooms'), 0)
      assert.equal(
        sampleOf(theirs, 'process_start_time_seconds'),
        sampleOf(mine, 'process_start_time_seconds'),
      )
    } finally {
      await other.stop()
      removeDir(other.dataDir)
    }
  })
})
