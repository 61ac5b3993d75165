// Markdown tables: one per scenario, a column per target, and plait's ratio to each reference server.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import type { Metric, Scenario, TargetRun } from './scenario.js'
import { repoRoot } from './targets.js'

export interface ScenarioReport {
  scenario: Scenario
  params: string
  runs: TargetRun[]
}

export interface Machine {
  date: string
  nproc: number
  cpuModel: string
  node: string
  commit: string
  loadAverage: string
  pinned: boolean
}

export function describeMachine(pinned: boolean): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown'
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'server', 'persistence', 'bench'], {
      cwd: repoRoot,
      encoding: 'utf8',
    })
    if (dirty.trim() !== '') commit += ' (+ uncommitted changes)'
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpuModel: model,
    node: process.version,
    commit,
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    pinned,
  }
}

function formatValue(value: number | null | undefined, metric: Metric): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–'
  const digits = metric.digits ?? 1
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** plait ÷ reference, with ✓ when plait is better in the metric's direction. */
function formatRatio(
  plait: number | null | undefined,
  ref: number | null | undefined,
  metric: Metric,
): string {
  if (metric.better === 'none') return ''
  if (plait === null || plait === undefined || ref === null || ref === undefined) return '–'
  if (Number.isNaN(plait) || Number.isNaN(ref)) return '–'
  if (ref === 0) return plait === 0 ? '=' : '–'
  const ratio = plait / ref
  const better = metric.better === 'lower' ? ratio < 1 : ratio > 1
  // toPrecision would print 100 as "1.0e+2".
  const text = ratio >= 100 ? ratio.toFixed(0) : ratio < 0.01 ? ratio.toPrecision(2) : ratio.toFixed(2)
  return `${text}×${better ? ' ✓' : ''}`
}

export function scenarioTable(report: ScenarioReport): string {
  const { scenario, runs } = report
  const plait = runs.find((r) => r.target === 'plait' && r.skipped === null)
  const refs = runs.filter((r) => r.target !== 'plait')
  const header = ['metric', ...runs.map((r) => r.target)]
  const ratioRefs = plait ? refs.filter((r) => r.skipped === null) : []
  for (const r of ratioRefs) header.push(`plait ÷ ${r.target}`)
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ]
  for (const metric of scenario.metrics) {
    const direction = metric.better === 'lower' ? ' ↓' : metric.better === 'higher' ? ' ↑' : ''
    const cells = [`${metric.label} (${metric.unit})${direction}`]
    for (const run of runs)
      cells.push(run.skipped === null ? formatValue(run.metrics[metric.key], metric) : 'skipped')
    for (const ref of ratioRefs)
      cells.push(formatRatio(plait?.metrics[metric.key], ref.metrics[metric.key], metric))
    lines.push(`| ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}

export function scenarioSection(report: ScenarioReport): string {
  const { scenario, runs } = report
  const parts = [`### ${scenario.title} (\`${scenario.name}\`)`, '', `${scenario.description}`, '']
  parts.push(`Parameters: ${report.params}.`, '', scenarioTable(report), '')
  for (const run of runs) {
    if (run.skipped !== null) parts.push(`- **${run.target}** skipped: ${run.skipped}`)
    for (const note of run.notes) parts.push(`- **${run.target}**: ${note}`)
  }
  for (const run of runs) {
    if (run.details) parts.push('', `#### ${run.target}`, '', run.details)
  }
  return parts.join('\n').trimEnd()
}

export function fullReport(machine: Machine, reports: ScenarioReport[], targetsLine: string): string {
  const head = [
    `## Results ${machine.date.slice(0, 10)}`,
    '',
    `- date: ${machine.date}`,
    `- machine: ${machine.nproc} × ${machine.cpuModel}, node ${machine.node}, load average at start ${machine.loadAverage}`,
    `- commit: ${machine.commit}`,
    `- pinning: ${machine.pinned ? 'server on core 0, load generator on core 1 (taskset)' : 'none (fewer than 2 cores)'}`,
    `- targets: ${targetsLine}`,
    '- ratios are plait ÷ reference; ↓ lower is better, ↑ higher is better; ✓ marks plait ahead.',
    '',
  ]
  return [...head, ...reports.map(scenarioSection)].join('\n\n').replace(/\n{3,}/g, '\n\n')
}
