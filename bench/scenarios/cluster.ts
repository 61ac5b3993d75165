// Fan-out across the nodes of a cluster (issue 20): the fanout workload against plait alone (LevelDB),
// then against a cluster of 1, 2 and 3 nodes on one Redis and one PostgreSQL, with each room's clients
// dealt round-robin over the nodes so that most deliveries cross nodes. The configurations take turns,
// round after round, on the same Redis and PostgreSQL; each number is the median over the rounds.
import { join } from 'node:path'
import { BenchClient, connectAll } from '../client.js'
import { DeliveryTracker } from '../delivery.js'
import { Histogram } from '../histogram.js'
import { LoopDelay } from '../loop-delay.js'
import { pace } from '../pacer.js'
import { bucketPercentile } from '../plait-metrics.js'
import { CoreInterference, ProcessSampler } from '../proc.js'
import { closedNote, type Metric, type RunContext, type Scenario, sleep, waitFor } from '../scenario.js'
import { freePort, ServerProcess } from '../server-process.js'
import {
  descendants,
  type PostgresService,
  type RedisService,
  redisAppendfsync,
  servicesUnavailable,
  startPostgres,
  startRedis,
} from '../services.js'
import type { Target } from '../targets.js'

const full = { rooms: 100, perRoom: 10, rate: 1, seconds: 20, rounds: 3 }
const quick = { rooms: 12, perRoom: 6, rate: 1, seconds: 5, rounds: 1 }
type Params = typeof full

interface Config {
  key: 'single' | 'c1' | 'c2' | 'c3'
  label: string
  nodes: number
  cluster: boolean
}

const configs: readonly Config[] = [
  { key: 'single', label: 'single node (LevelDB)', nodes: 1, cluster: false },
  { key: 'c1', label: 'cluster, 1 node', nodes: 1, cluster: true },
  { key: 'c2', label: 'cluster, 2 nodes', nodes: 2, cluster: true },
  { key: 'c3', label: 'cluster, 3 nodes', nodes: 3, cluster: true },
]

/** What one configuration measured in one round. */
type Measure = Record<string, number>

interface Services {
  redis: RedisService
  postgres: PostgresService
}

/** The node's target: plait as the bench starts it, plus the cluster flags; ready once /readyz says so. */
function nodeTarget(
  base: Target,
  cluster: { redisUrl: string; databaseUrl: string; prefix: string; nodeId: string } | null,
): Target {
  return {
    ...base,
    readyPath: '/readyz',
    launch: (options) => {
      const launch = base.launch(options)
      if (cluster === null) return launch
      const flags = ['--redis', cluster.redisUrl, '--database', cluster.databaseUrl]
      flags.push('--node-id', cluster.nodeId, '--cluster-prefix', cluster.prefix)
      return { ...launch, nodeArgs: [...launch.nodeArgs, ...flags] }
    },
  }
}

/** Sum of every series of a counter or gauge in a /metrics text (NaN when it is not there). */
function metricSum(text: string, name: string): number {
  let total = Number.NaN
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    total = (Number.isNaN(total) ? 0 : total) + Number(match[1])
  }
  return total
}

async function metricsOf(server: ServerProcess): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`, { signal: AbortSignal.timeout(5_000) })
    return await res.text()
  } catch {
    return ''
  }
}

/** Redis's own time in commands (INFO commandstats since CONFIG RESETSTAT): calls and µs, by command. */
function commandStats(info: string): Map<string, { calls: number; usec: number }> {
  const stats = new Map<string, { calls: number; usec: number }>()
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(match[1], { calls: Number(match[2]), usec: Number(match[3]) })
  }
  return stats
}

const median = (values: number[]): number => {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  return finite.length === 0 ? Number.NaN : finite[Math.floor((finite.length - 1) / 2)]
}

async function measure(
  ctx: RunContext,
  config: Config,
  services: Services,
  p: Params,
  round: number,
  notes: string[],
): Promise<Measure> {
  const tag = `${config.key}-r${round}`
  const databaseUrl = config.cluster ? await services.postgres.createDatabase() : null
  const nodes: ServerProcess[] = []
  for (let k = 0; k < config.nodes; k++) {
    const target = nodeTarget(
      ctx.target,
      databaseUrl === null
        ? null
        : { redisUrl: services.redis.url, databaseUrl, prefix: `bench-${tag}`, nodeId: `${tag}-n${k + 1}` },
    )
    const node = await ServerProcess.start(target, {
      port: await freePort(),
      dataDir: ctx.newDataDir(),
      nodeFlags: ctx.nodeFlags,
      logFile: join(ctx.workDir, `${tag}-node${k + 1}.log`),
      cpus: ctx.pinned ? '0' : null,
    })
    // The runner stops whatever is left here if the run throws.
    ctx.servers.push(node)
    nodes.push(node)
  }
  const tracker = new DeliveryTracker()
  const cross = new Histogram()
  const same = new Histogram()
  const clientCount = p.rooms * p.perRoom
  // Rooms interleaved as in fanout; within a room, its clients dealt round-robin over the nodes.
  const nodeOf = new Int32Array(clientCount)
  const onMarker = (receiver: number, sender: number, seq: number, latencyMicros: number) => {
    if (!tracker.onMarker(receiver, sender, seq, latencyMicros)) return
    ;(nodeOf[receiver] === nodeOf[sender] ? same : cross).record(latencyMicros)
  }
  const authToken = await ctx.target.authToken()
  const clients: BenchClient[] = []
  for (let i = 0; i < clientCount; i++) {
    const room = `cluster-${tag}-${i % p.rooms}`
    nodeOf[i] = Math.floor(i / p.rooms) % config.nodes
    clients.push(
      new BenchClient({
        id: i,
        url: `ws://127.0.0.1:${nodes[nodeOf[i]].port}/${encodeURIComponent(room)}`,
        framing: ctx.target.framing(room),
        authToken,
        onMarker,
      }),
    )
  }
  try {
    ctx.log(`${config.label}, round ${round}: connecting ${clients.length} clients`)
    await connectAll(clients)
    // Every configuration gets the same second for rooms to settle (a cluster node follows a room's log
    // once it has loaded it).
    await sleep(1000)
    if (config.cluster) await services.redis.command('CONFIG', 'RESETSTAT')
    const nodePids = nodes.map((n) => n.pid)
    // Redis and PostgreSQL sit on core 0 in every configuration (idle for the single node): not "others".
    const serverPids = [
      ...nodePids,
      services.redis.pid,
      services.postgres.pid,
      ...descendants(services.postgres.pid),
    ]
    const nodeSamplers = nodes.map((n) => new ProcessSampler(n.pid))
    const redisCpu0 = services.redis.cpuSeconds()
    const postgresCpu0 = services.postgres.cpuSeconds()
    const loadgenSampler = new ProcessSampler(process.pid)
    const loopDelay = new LoopDelay()
    const otherOnServerCore = new CoreInterference(0, serverPids)
    const otherOnLoadgenCore = new CoreInterference(1, process.pid)
    const startedAt = performance.now()
    ctx.log(`${config.label}, round ${round}: sending for ${p.seconds} s`)
    const paced = await pace({
      clients,
      ratePerClient: p.rate,
      durationMs: p.seconds * 1000,
      edit: (c) => {
        c.edit()
        tracker.onSent(c.id, c.seq, p.perRoom - 1)
      },
    })
    const windowSeconds = (performance.now() - startedAt) / 1000
    for (const node of nodes) node.assertRunning()
    if (!services.redis.isRunning || !services.postgres.isRunning)
      throw new Error('redis-server or PostgreSQL exited during the run')
    const nodeUsage = nodeSamplers.map((s) => s.stop())
    const redisCpu = ((services.redis.cpuSeconds() - redisCpu0) / windowSeconds) * 100
    const postgresCpu = ((services.postgres.cpuSeconds() - postgresCpu0) / windowSeconds) * 100
    const loadgenUsage = loadgenSampler.stop()
    const loop = loopDelay.stop()
    const otherServerCore = otherOnServerCore.stop()
    const otherLoadgenCore = otherOnLoadgenCore.stop()
    const redisInfo = config.cluster ? await services.redis.command('INFO', 'commandstats') : ''
    await waitFor(() => tracker.complete, 3000)
    const texts = await Promise.all(nodes.map(metricsOf))
    const seconds = paced.elapsedMs / 1000
    const updatesPerSec = paced.sent / seconds
    const perUpdate = (cpuPercent: number) => (cpuPercent * 1e4) / updatesPerSec
    const nodesCpu = nodeUsage.reduce((sum, u) => sum + u.cpuPercent, 0)
    const h = tracker.latency
    const worst = (name: string, percentile: number) =>
      Math.max(...texts.map((t) => bucketPercentile(t, name, percentile) ?? Number.NaN))
    const stats = commandStats(redisInfo)
    // The append script's own time, the commands it calls included (Redis 7 counts those again under
    // their own names, so a sum over every command would count them twice).
    const script = stats.get('evalsha') ?? { calls: 0, usec: 0 }
    const evalCalls = script.calls + (stats.get('eval')?.calls ?? 0)
    const evalUsec = script.usec + (stats.get('eval')?.usec ?? 0)
    if (round === 1 && stats.size > 0) {
      const top = [...stats]
        .sort((a, b) => b[1].usec - a[1].usec)
        .slice(0, 4)
        .map(
          ([name, s]) =>
            `${name} ${(s.calls / paced.sent).toFixed(2)} calls, ${(s.usec / paced.sent).toFixed(1)} µs`,
        )
      notes.push(
        `${config.label}: Redis command time per update sent (INFO commandstats; evalsha is the append script and includes the commands it calls): ${top.join('; ')}`,
      )
    }
    const closed = closedNote(clients)
    if (closed !== null) notes.push(`${config.label}, round ${round}: ${closed}`)
    if (paced.maxLagMs > 20)
      notes.push(
        `${config.label}, round ${round}: pacer fell up to ${paced.maxLagMs.toFixed(0)} ms behind schedule`,
      )
    if (tracker.outOfOrder > 0)
      notes.push(`${config.label}, round ${round}: ${tracker.outOfOrder} markers arrived out of order`)
    const nodesSeen = texts.map((t) => metricSum(t, 'plait_cluster_nodes'))
    if (config.cluster && nodesSeen.some((n) => n !== config.nodes))
      notes.push(`${config.label}, round ${round}: nodes alive as each node saw it: ${nodesSeen.join(', ')}`)
    const updatesIn = texts.reduce((sum, t) => sum + (metricSum(t, 'plait_cluster_updates_in_total') || 0), 0)
    const catchUps = texts.reduce((sum, t) => sum + (metricSum(t, 'plait_cluster_catch_ups_total') || 0), 0)
    if (catchUps > 0)
      notes.push(
        `${config.label}, round ${round}: ${catchUps} catch-up reads (a missed announcement or a reconnect)`,
      )
    const redisCpuShown = config.cluster ? redisCpu : Number.NaN
    const postgresCpuShown = config.cluster ? postgresCpu : Number.NaN
    const serviceCpu = config.cluster ? redisCpu + postgresCpu : 0
    return {
      updatesPerSec,
      p50: h.percentile(50) / 1000,
      p99: h.percentile(99) / 1000,
      max: h.max / 1000,
      crossP50: cross.percentile(50) / 1000,
      crossP99: cross.percentile(99) / 1000,
      sameP99: same.percentile(99) / 1000,
      crossShare: tracker.delivered === 0 ? Number.NaN : (cross.count / tracker.delivered) * 100,
      delivered: tracker.deliveryRatio * 100,
      nodesCpu,
      redisCpu: redisCpuShown,
      postgresCpu: postgresCpuShown,
      nodesPerUpdate: perUpdate(nodesCpu),
      redisPerUpdate: perUpdate(redisCpuShown),
      postgresPerUpdate: perUpdate(postgresCpuShown),
      totalPerUpdate: perUpdate(nodesCpu + serviceCpu),
      scriptUsPerUpdate: config.cluster ? evalUsec / paced.sent : Number.NaN,
      scriptCallsPerUpdate: config.cluster ? evalCalls / paced.sent : Number.NaN,
      nodesRss: nodeUsage.reduce((sum, u) => sum + u.maxRssKiB, 0) / 1024,
      // Every update sent to one node is applied by each of the others (every room is on every node).
      updatesInShare: config.nodes > 1 ? (updatesIn / (paced.sent * (config.nodes - 1))) * 100 : Number.NaN,
      catchUps: config.cluster ? catchUps : Number.NaN,
      relayP99: worst('plait_relay_seconds', 99),
      batchP99: worst('plait_persist_batch_seconds', 99),
      lagP99: config.nodes > 1 ? worst('plait_cluster_delivery_lag_seconds', 99) : Number.NaN,
      loadgenCpu: loadgenUsage.cpuPercent,
      loopMax: loop.maxMs,
      otherServerCore,
      otherLoadgenCore,
    }
  } finally {
    for (const c of clients) c.terminate()
    await Promise.all(nodes.map((n) => n.stop()))
  }
}

const fmt = (value: number | undefined, digits: number): string =>
  value === undefined || !Number.isFinite(value)
    ? '–'
    : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

const ratio = (a: number, b: number): number =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN

/** The latency and CPU tables, one row per configuration. */
function detailTables(byConfig: Map<Config['key'], Measure>): string {
  const single = byConfig.get('single')
  const c1 = byConfig.get('c1')
  const latency = [
    '| configuration | updates/s | p50 ms | p99 ms | cross-node p50 ms | cross-node p99 ms | same-node p99 ms | cross-node share % | p99 used ÷ single-node p99 | delivered % | node relay p99 ≤ ms | store batch p99 ≤ ms | cross-node lag p99 ≤ ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  const cpu = [
    '| configuration | plait nodes CPU % | Redis CPU % | PostgreSQL CPU % | plait µs/update | Redis µs/update | PostgreSQL µs/update | total µs/update | plait ÷ single | total ÷ single | total ÷ 1-node cluster | Redis append script µs/update (calls/update) | nodes RSS MiB | updates applied from other nodes % | load gen CPU % | others on core 0 / 1 % |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const config of configs) {
    const m = byConfig.get(config.key)
    if (m === undefined) continue
    const p99Used = config.nodes > 1 ? m.crossP99 : m.p99
    latency.push(
      `| ${config.label} | ${fmt(m.updatesPerSec, 0)} | ${fmt(m.p50, 2)} | ${fmt(m.p99, 2)} | ${fmt(m.crossP50, 2)} | ${fmt(m.crossP99, 2)} | ${fmt(m.sameP99, 2)} | ${fmt(m.crossShare, 0)} | ${fmt(ratio(p99Used, single?.p99 ?? Number.NaN), 2)}× | ${fmt(m.delivered, 3)} | ${fmt(m.relayP99, 2)} | ${fmt(m.batchP99, 2)} | ${fmt(m.lagP99, 2)} |`,
    )
    cpu.push(
      `| ${config.label} | ${fmt(m.nodesCpu, 1)} | ${fmt(m.redisCpu, 1)} | ${fmt(m.postgresCpu, 1)} | ${fmt(m.nodesPerUpdate, 0)} | ${fmt(m.redisPerUpdate, 0)} | ${fmt(m.postgresPerUpdate, 0)} | ${fmt(m.totalPerUpdate, 0)} | ${fmt(ratio(m.nodesPerUpdate, single?.nodesPerUpdate ?? Number.NaN), 2)}× | ${fmt(ratio(m.totalPerUpdate, single?.totalPerUpdate ?? Number.NaN), 2)}× | ${config.cluster ? `${fmt(ratio(m.totalPerUpdate, c1?.totalPerUpdate ?? Number.NaN), 2)}×` : ''} | ${fmt(m.scriptUsPerUpdate, 1)} (${fmt(m.scriptCallsPerUpdate, 2)}) | ${fmt(m.nodesRss, 1)} | ${fmt(m.updatesInShare, 1)} | ${fmt(m.loadgenCpu, 1)} | ${fmt(m.otherServerCore, 0)} / ${fmt(m.otherLoadgenCore, 0)} |`,
    )
  }
  return [
    'Latency (send → receipt at another client, load generator clock; "cross-node": sender and receiver on different nodes; the ratio takes cross-node p99 for 2 and 3 nodes, all deliveries otherwise. The last three columns are the nodes’ own /metrics histograms, worst node, as bucket bounds over each node’s whole life: relay = receipt → broadcast, store batch = one LevelDB batch or Redis append, lag = an append on another node → applied here):',
    '',
    ...latency,
    '',
    'CPU per update sent (µs of one core for each update, its fan-out to the room included: CPU % × 10⁴ ÷ updates/s); total = plait nodes + Redis + PostgreSQL:',
    '',
    ...cpu,
  ].join('\n')
}

const metrics: Metric[] = [
  { key: 'p99_single', label: 'single node: p99', unit: 'ms', better: 'lower', digits: 2 },
  { key: 'p99_c1', label: 'cluster, 1 node: p99', unit: 'ms', better: 'lower', digits: 2 },
  { key: 'p99_c2', label: 'cluster, 2 nodes: cross-node p99', unit: 'ms', better: 'lower', digits: 2 },
  { key: 'p99_c3', label: 'cluster, 3 nodes: cross-node p99', unit: 'ms', better: 'lower', digits: 2 },
  { key: 'p99ratio_c1', label: '1 node p99 ÷ single-node p99', unit: '×', better: 'lower', digits: 2 },
  {
    key: 'p99ratio_c2',
    label: '2 nodes cross-node p99 ÷ single-node p99 (target ≤ 2)',
    unit: '×',
    better: 'lower',
    digits: 2,
  },
  {
    key: 'p99ratio_c3',
    label: '3 nodes cross-node p99 ÷ single-node p99 (target ≤ 2)',
    unit: '×',
    better: 'lower',
    digits: 2,
  },
  { key: 'p50_single', label: 'single node: p50', unit: 'ms', better: 'lower', digits: 2 },
  { key: 'p50_c3', label: 'cluster, 3 nodes: cross-node p50', unit: 'ms', better: 'lower', digits: 2 },
  {
    key: 'delivered_min',
    label: 'delivered, lowest of the configurations',
    unit: '%',
    better: 'higher',
    digits: 3,
  },
  { key: 'cpu_single', label: 'single node: plait CPU per update', unit: 'µs', better: 'lower', digits: 0 },
  { key: 'cpu_c1', label: 'cluster, 1 node: plait CPU per update', unit: 'µs', better: 'lower', digits: 0 },
  {
    key: 'cpu_c2',
    label: 'cluster, 2 nodes: plait CPU per update (both nodes)',
    unit: 'µs',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'cpu_c3',
    label: 'cluster, 3 nodes: plait CPU per update (all nodes)',
    unit: 'µs',
    better: 'lower',
    digits: 0,
  },
  { key: 'redis_c1', label: 'cluster, 1 node: Redis CPU per update', unit: 'µs', better: 'lower', digits: 0 },
  {
    key: 'redis_c2',
    label: 'cluster, 2 nodes: Redis CPU per update',
    unit: 'µs',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'redis_c3',
    label: 'cluster, 3 nodes: Redis CPU per update',
    unit: 'µs',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'total_c1',
    label: 'cluster, 1 node: total CPU per update (plait + Redis + PostgreSQL)',
    unit: 'µs',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'total_c2',
    label: 'cluster, 2 nodes: total CPU per update',
    unit: 'µs',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'total_c3',
    label: 'cluster, 3 nodes: total CPU per update',
    unit: 'µs',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'cpuratio_c1',
    label: '1 node: total CPU per update ÷ single node',
    unit: '×',
    better: 'lower',
    digits: 2,
  },
  {
    key: 'cpuratio_c2',
    label: '2 nodes: total CPU per update ÷ single node',
    unit: '×',
    better: 'lower',
    digits: 2,
  },
  {
    key: 'cpuratio_c3',
    label: '3 nodes: total CPU per update ÷ single node',
    unit: '×',
    better: 'lower',
    digits: 2,
  },
  {
    key: 'growth_c2',
    label: 'total CPU per update, 2 nodes ÷ 1 node',
    unit: '×',
    better: 'lower',
    digits: 2,
  },
  {
    key: 'growth_c3',
    label: 'total CPU per update, 3 nodes ÷ 2 nodes',
    unit: '×',
    better: 'lower',
    digits: 2,
  },
  {
    key: 'redisRate_c3',
    label: 'updates/s one Redis core would carry (3 nodes: 10⁶ ÷ Redis µs/update)',
    unit: '/s',
    better: 'higher',
    digits: 0,
  },
]

export const cluster: Scenario = {
  name: 'cluster',
  title: 'Cluster: fan-out across nodes',
  plaitOnly: true,
  unavailable: servicesUnavailable,
  description:
    'The fanout workload against plait alone (LevelDB), then a cluster of 1, 2 and 3 nodes on one Redis ' +
    `(AOF, appendfsync ${redisAppendfsync}) and one PostgreSQL, each room's clients dealt round-robin over the nodes. ` +
    'The configurations take turns, round after round, on the same Redis and PostgreSQL; each number is the median over the rounds. ' +
    'Every plait node, Redis and PostgreSQL share core 0 (taskset); the load generator has core 1.',
  params: (q) => {
    const p = q ? quick : full
    return `${p.rooms} rooms × ${p.perRoom} clients × ${p.rate} update/s each, ${p.seconds} s per configuration, ${p.rounds} round(s) of single node, cluster of 1, 2, 3 nodes`
  },
  metrics,
  async run(ctx) {
    const p = ctx.quick ? quick : full
    const notes: string[] = []
    ctx.log('starting redis-server and PostgreSQL')
    const [redis, postgres] = await Promise.all([startRedis(ctx.pinned), startPostgres(ctx.pinned)])
    const services = { redis, postgres }
    const rounds = new Map<Config['key'], Measure[]>(configs.map((c) => [c.key, []]))
    try {
      notes.push(
        `${redis.version}, AOF on with appendfsync ${redisAppendfsync}, no RDB snapshots; ${postgres.version} (fsync on); ` +
          `${ctx.pinned ? 'plait nodes, Redis and PostgreSQL all on core 0, load generator on core 1' : 'not pinned (fewer than 2 cores)'}`,
      )
      for (let round = 1; round <= p.rounds; round++) {
        for (const config of configs)
          rounds.get(config.key)?.push(await measure(ctx, config, services, p, round, notes))
      }
    } finally {
      await Promise.all([redis.stop(), postgres.stop()])
    }
    const byConfig = new Map<Config['key'], Measure>()
    for (const [key, measures] of rounds) {
      const m: Measure = {}
      for (const name of Object.keys(measures[0] ?? {})) m[name] = median(measures.map((x) => x[name]))
      byConfig.set(key, m)
    }
    const get = (key: Config['key'], name: string) => byConfig.get(key)?.[name] ?? Number.NaN
    const singleP99 = get('single', 'p99')
    const singleTotal = get('single', 'totalPerUpdate')
    if (p.rounds > 1)
      notes.unshift(`median of ${p.rounds} rounds; configurations took turns within each round`)
    return {
      metrics: {
        p99_single: singleP99,
        p99_c1: get('c1', 'p99'),
        p99_c2: get('c2', 'crossP99'),
        p99_c3: get('c3', 'crossP99'),
        p99ratio_c1: ratio(get('c1', 'p99'), singleP99),
        p99ratio_c2: ratio(get('c2', 'crossP99'), singleP99),
        p99ratio_c3: ratio(get('c3', 'crossP99'), singleP99),
        p50_single: get('single', 'p50'),
        p50_c3: get('c3', 'crossP50'),
        delivered_min: Math.min(...configs.map((c) => get(c.key, 'delivered'))),
        cpu_single: get('single', 'nodesPerUpdate'),
        cpu_c1: get('c1', 'nodesPerUpdate'),
        cpu_c2: get('c2', 'nodesPerUpdate'),
        cpu_c3: get('c3', 'nodesPerUpdate'),
        redis_c1: get('c1', 'redisPerUpdate'),
        redis_c2: get('c2', 'redisPerUpdate'),
        redis_c3: get('c3', 'redisPerUpdate'),
        total_c1: get('c1', 'totalPerUpdate'),
        total_c2: get('c2', 'totalPerUpdate'),
        total_c3: get('c3', 'totalPerUpdate'),
        cpuratio_c1: ratio(get('c1', 'totalPerUpdate'), singleTotal),
        cpuratio_c2: ratio(get('c2', 'totalPerUpdate'), singleTotal),
        cpuratio_c3: ratio(get('c3', 'totalPerUpdate'), singleTotal),
        growth_c2: ratio(get('c2', 'totalPerUpdate'), get('c1', 'totalPerUpdate')),
        growth_c3: ratio(get('c3', 'totalPerUpdate'), get('c2', 'totalPerUpdate')),
        redisRate_c3: ratio(1e6, get('c3', 'redisPerUpdate')),
      },
      notes,
      details: detailTables(byConfig),
    }
  },
}
