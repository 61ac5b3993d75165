// `npm run bench -- [scenario ...] [--targets a,b] [--quick] [--cpu-prof <dir>]`
// Runs each scenario against each target in turn on this machine and prints plait's ratios to the others.
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { describeMachine, fullReport, type ScenarioReport, scenarioSection } from './report.js'
import { RunContext, type Scenario, type TargetRun } from './scenario.js'
import { cluster } from './scenarios/cluster.js'
import { coldLoad } from './scenarios/cold-load.js'
import { crash } from './scenarios/crash.js'
import { fanout } from './scenarios/fanout.js'
import { hotRoom } from './scenarios/hot-room.js'
import { idle } from './scenarios/idle.js'
import { manyDocs } from './scenarios/many-docs.js'
import { presenceStorm } from './scenarios/presence-storm.js'
import { socketLimit } from './scenarios/socket-limit.js'
import { allTargets, defaultTargets, repoRoot, type Target, targetByName } from './targets.js'
import { verifyAppendEncoding } from './update.js'

const scenarios: readonly Scenario[] = [
  fanout,
  hotRoom,
  idle,
  coldLoad,
  crash,
  presenceStorm,
  manyDocs,
  socketLimit,
  cluster,
]

const usage = `usage: npm run bench -- [${scenarios.map((s) => s.name).join('|')} ...] [options]
  (no scenario: all of them)
  --targets <list>   comma-separated subset of ${allTargets.map((t) => t.name).join(',')} (default: y-websocket,hocuspocus,plait)
  --quick            small counts and short durations, for developing the bench
  --cpu-prof <dir>   run plait with node --cpu-prof, profiles written to <dir> when it stops
  --node-flags=<f>   extra node flags for the plait server, e.g. --node-flags="--trace-gc" (output: server log)
  --rounds <n>       run each scenario n times, targets taking turns, and report each metric's median
                     (default: 3 for fanout, idle, presence-storm and many-docs, whose numbers move with the
                     machine's load; 1 else)
  --keep             keep the scratch directory (data and each server's log) after a clean run
  --no-build         do not run \`npm run build\` before benchmarking plait (use dist/ as it is)
  --out <dir>        where results go (default bench/results: <date>-<HHMM>.md, UTC start of the run)
  --no-write         print only, write no result files`

function parse() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      targets: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      'node-flags': { type: 'string' },
      keep: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      // Internal: run one scenario and write its runs here (see runInChild).
      'runs-json': { type: 'string' },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(usage)
    process.exit(0)
  }
  const chosen =
    positionals.length === 0
      ? [...scenarios]
      : positionals.map((name) => scenarios.find((s) => s.name === name))
  if (values.out !== undefined && values['no-write'])
    throw new Error(`--out and --no-write together would write nothing; drop one\n${usage}`)
  const unknownScenario = positionals.find((name) => !scenarios.some((s) => s.name === name))
  if (unknownScenario !== undefined) throw new Error(`unknown scenario '${unknownScenario}'\n${usage}`)
  const targetNames = values.targets
    ? values.targets.split(',').map((t) => t.trim())
    : defaultTargets.map((t) => t.name)
  const targets: Target[] = []
  for (const name of targetNames) {
    const target = targetByName(name)
    if (!target) throw new Error(`unknown target '${name}'\n${usage}`)
    targets.push(target)
  }
  return {
    scenarios: chosen.filter((s): s is Scenario => s !== undefined),
    targets,
    quick: values.quick ?? false,
    cpuProfDir: values['cpu-prof'] ? resolve(values['cpu-prof']) : null,
    nodeFlags: values['node-flags']?.split(' ').filter(Boolean) ?? [],
    keep: values.keep ?? false,
    rounds: values.rounds === undefined ? null : Math.max(1, Number.parseInt(values.rounds, 10) || 1),
    runsJson: values['runs-json'] ?? null,
    outDir: resolve(values.out ?? join(repoRoot, 'bench', 'results')),
    write: !values['no-write'],
    build: !values['no-build'],
  }
}

/** `2026-11-26T03:48:25.123Z` → `2026-11-26-0348`: the results file of a run started then. */
function resultName(isoDate: string): string {
  return `${isoDate.slice(0, 10)}-${isoDate.slice(11, 13)}${isoDate.slice(14, 16)}`
}

/** Pins every thread of this process (the load generator) to core 1, so the server has core 0 to itself. */
function pinSelf(): boolean {
  if (cpus().length < 2) {
    console.error('fewer than 2 cores: server and load generator share them (numbers are not comparable)')
    return false
  }
  execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' })
  return true
}

// A child process (runInChild) learns of its parent's failed build from the environment.
let plaitBuildFailure: string | null = process.env.PLAIT_BENCH_BUILD_FAILURE ?? null

/**
 * One run standing for several rounds of the same target: each metric's median over the rounds that
 * finished; notes and details of the first finished round, and a note saying what was combined.
 */
function medianRun(runs: TargetRun[]): TargetRun {
  const finished = runs.filter((r) => r.skipped === null)
  if (finished.length === 0 || runs.length === 1) return runs[0]
  const metrics: TargetRun['metrics'] = {}
  for (const key of Object.keys(finished[0].metrics)) {
    const values = finished
      .map((r) => r.metrics[key])
      .filter((v): v is number => typeof v === 'number')
      .sort((a, b) => a - b)
    metrics[key] = values.length === 0 ? null : values[Math.floor((values.length - 1) / 2)]
  }
  const failedRounds = runs.length - finished.length
  const note =
    `median of ${finished.length} rounds (targets took turns)` +
    (failedRounds > 0 ? `; ${failedRounds} round(s) failed: ${runs.find((r) => r.skipped)?.skipped}` : '')
  return { ...finished[0], metrics, notes: [note, ...finished[0].notes] }
}

/** Node flags for the plait server: a CPU profile and whatever --node-flags asked for. */
function plaitNodeFlags(opts: ReturnType<typeof parse>): string[] {
  const profile = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []
  return [...profile, ...opts.nodeFlags]
}

/** Why `target` cannot run `scenario`, or null when it can. */
function whyNotRun(scenario: Scenario, target: Target): string | null {
  if (target.isPlait && plaitBuildFailure !== null) return plaitBuildFailure
  if (scenario.readsStoredDocuments && !target.storesDocuments)
    return `it stores nothing, so ${scenario.name} has nothing to measure`
  if (scenario.plaitOnly && !target.isPlait) return `${scenario.name} measures plait alone (--targets plait)`
  const missing = scenario.unavailable?.() ?? null
  if (missing !== null) return missing
  return scenario.skips?.(target) ?? target.unavailable()
}

async function runOne(
  scenario: Scenario,
  target: Target,
  opts: ReturnType<typeof parse>,
  workRoot: string,
  pinned: boolean,
  round: number,
) {
  const base = { target: target.name, label: target.label, metrics: {}, notes: [] }
  const unavailable = whyNotRun(scenario, target)
  if (unavailable !== null) {
    console.error(`  [${target.name}] skipped: ${unavailable}`)
    return { ...base, skipped: unavailable } satisfies TargetRun
  }
  const workDir = join(workRoot, `${scenario.name}-${target.name}-${round}`)
  mkdirSync(workDir, { recursive: true })
  const ctx = new RunContext(target, opts.quick, target.isPlait ? plaitNodeFlags(opts) : [], workDir, pinned)
  const startedAt = performance.now()
  try {
    const outcome = await scenario.run(ctx)
    ctx.log(`done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`)
    return { ...base, ...outcome, skipped: null } satisfies TargetRun
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    ctx.log(`FAILED: ${message} (server log: ${join(workDir, 'server.log')})`)
    return { ...base, skipped: `failed: ${message}` } satisfies TargetRun
  } finally {
    await ctx.stopServers()
  }
}

/** Builds plait so the numbers belong to the source being reported; returns why it failed, or null. */
function buildPlait(): string | null {
  console.error('bench: npm run build (plait)')
  try {
    execFileSync('npm', ['run', 'build'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 300_000,
    })
    return null
  } catch (err) {
    return `npm run build failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`
  }
}

type Options = ReturnType<typeof parse>

/** Every round of one scenario: targets take turns; each target's metrics are the rounds' medians. */
async function runScenario(
  scenario: Scenario,
  opts: Options,
  workRoot: string,
  pinned: boolean,
): Promise<{ runs: TargetRun[]; failed: boolean }> {
  let failed = false
  const rounds = opts.quick ? 1 : (opts.rounds ?? scenario.rounds ?? 1)
  // A plait-only scenario leaves the reference servers out rather than printing a column of "skipped".
  const plaitTargets = opts.targets.filter((t) => t.isPlait)
  const targets = scenario.plaitOnly && plaitTargets.length > 0 ? plaitTargets : opts.targets
  const byTarget = new Map<Target, TargetRun[]>(targets.map((t) => [t, []]))
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) console.error(`  round ${round} of ${rounds}`)
    for (const target of targets) {
      const run = await runOne(scenario, target, opts, workRoot, pinned, round)
      if (run.skipped?.startsWith('failed')) failed = true
      byTarget.get(target)?.push(run)
    }
  }
  return { runs: [...byTarget.values()].map(medianRun), failed }
}

/** Runs one scenario in a new process of this script (same node flags), and reads back its runs. */
async function runInChild(
  scenario: Scenario,
  opts: Options,
): Promise<{ runs: TargetRun[]; failed: boolean }> {
  const runsFile = join(mkdtempSync(join(tmpdir(), 'plait-bench-runs-')), 'runs.json')
  const args = [
    ...process.execArgv,
    process.argv[1],
    scenario.name,
    '--targets',
    opts.targets.map((t) => t.name).join(','),
    '--no-build',
    '--no-write',
    `--runs-json=${runsFile}`,
    ...(opts.quick ? ['--quick'] : []),
    ...(opts.keep ? ['--keep'] : []),
    ...(opts.rounds !== null ? [`--rounds=${opts.rounds}`] : []),
    ...(opts.cpuProfDir ? [`--cpu-prof=${opts.cpuProfDir}`] : []),
    ...(opts.nodeFlags.length > 0 ? [`--node-flags=${opts.nodeFlags.join(' ')}`] : []),
  ]
  const env = {
    ...process.env,
    ...(plaitBuildFailure ? { PLAIT_BENCH_BUILD_FAILURE: plaitBuildFailure } : {}),
  }
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    child.once('exit', (exitCode) => resolve(exitCode ?? 1))
  })
  try {
    const runs = JSON.parse(readFileSync(runsFile, 'utf8')) as TargetRun[]
    return { runs, failed: code !== 0 }
  } catch {
    const reason = `failed: the scenario's process exited with ${code} and reported nothing`
    return {
      runs: opts.targets.map((t) => ({
        target: t.name,
        label: t.label,
        metrics: {},
        notes: [],
        skipped: reason,
      })),
      failed: true,
    }
  } finally {
    rmSync(dirname(runsFile), { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const opts = parse()
  // Senders write their Yjs updates by hand (update.ts): refuse to run if they differ from Yjs's own.
  verifyAppendEncoding()
  if (opts.build && opts.targets.some((t) => t.isPlait)) {
    const failure = buildPlait()
    if (failure !== null) {
      console.error(`bench: ${failure}; plait will be skipped`)
      plaitBuildFailure = failure
    }
  }
  const pinned = pinSelf()
  const machine = describeMachine(pinned)
  if (opts.cpuProfDir) mkdirSync(opts.cpuProfDir, { recursive: true })
  const workRoot = mkdtempSync(join(tmpdir(), 'plait-bench-'))
  console.error(
    `bench: ${opts.scenarios.map((s) => s.name).join(', ')} × ${opts.targets.map((t) => t.name).join(', ')}`,
  )
  console.error(`bench: scratch in ${workRoot}${opts.quick ? ' (quick mode)' : ''}`)
  const reports: ScenarioReport[] = []
  let failed = false
  try {
    for (const scenario of opts.scenarios) {
      console.error(`\n== ${scenario.name}: ${scenario.params(opts.quick)}`)
      // Each scenario of a multi-scenario run gets a fresh load generator: after a fan-out run, the same
      // process hit 90 % CPU at 3,000 updates/s in hot-room, against 20,000 when fresh.
      const result =
        opts.scenarios.length > 1
          ? await runInChild(scenario, opts)
          : await runScenario(scenario, opts, workRoot, pinned)
      if (result.failed) failed = true
      if (opts.runsJson !== null) {
        writeFileSync(opts.runsJson, JSON.stringify(result.runs))
        continue
      }
      const report = { scenario, params: scenario.params(opts.quick), runs: result.runs }
      reports.push(report)
      console.log(`\n${scenarioSection(report)}\n`)
    }
  } finally {
    // Data directories of finished runs are not needed; logs of failed ones are.
    if (!failed && !opts.keep) rmSync(workRoot, { recursive: true, force: true })
    else if (opts.keep) console.error(`bench: scratch kept in ${workRoot}`)
  }
  if (opts.runsJson !== null) {
    if (failed) process.exitCode = 1
    return
  }
  const targetsLine = opts.targets.map((t) => `${t.name} = ${t.label}`).join('; ')
  const markdown = fullReport(machine, reports, targetsLine)
  if (opts.write) {
    mkdirSync(opts.outDir, { recursive: true })
    const stamp = machine.date.slice(0, 19).replace(/[:T]/g, '-')
    const suffix = opts.quick ? '-quick' : ''
    // Named for the run's start (UTC, to the minute), so a second run the same day keeps the first.
    const mdPath = join(opts.outDir, `${resultName(machine.date)}${suffix}.md`)
    const jsonPath = join(opts.outDir, `${stamp}${suffix}.json`)
    writeFileSync(mdPath, `${markdown}\n`)
    writeFileSync(
      jsonPath,
      `${JSON.stringify({ machine, quick: opts.quick, reports: reports.map((r) => ({ scenario: r.scenario.name, params: r.params, runs: r.runs })) }, null, 2)}\n`,
    )
    console.error(`\nbench: wrote ${mdPath} and ${jsonPath}`)
  }
  if (opts.cpuProfDir) console.error(`bench: plait CPU profiles in ${opts.cpuProfDir}`)
  if (failed) process.exitCode = 1
}

const interrupt = () => {
  // The exit handler in server-process.ts kills every server still running.
  console.error('\nbench: interrupted, stopping servers')
  process.exit(130)
}
process.on('SIGINT', interrupt)
process.on('SIGTERM', interrupt)

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
