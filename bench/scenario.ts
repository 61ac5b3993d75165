// What a scenario is, and the context it runs in: one target, a scratch directory, servers it may start.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type AwarenessListener, BenchClient, type MarkerListener } from './client.js'
import { freePort, ServerProcess } from './server-process.js'
import type { Target, TargetName } from './targets.js'

export interface Metric {
  key: string
  label: string
  /** Unit shown after the label, e.g. 'ms'. */
  unit: string
  /** Which direction is better, for reading plait's ratio; 'none' prints no ratio. */
  better: 'lower' | 'higher' | 'none'
  digits?: number
}

/** What else ran on the two pinned cores meanwhile (CoreInterference), as `otherServerCore` and `otherLoadgenCore`. */
export const coreShareMetrics: readonly Metric[] = [
  {
    key: 'otherServerCore',
    label: 'other processes on the server core',
    unit: '%',
    better: 'none',
    digits: 1,
  },
  {
    key: 'otherLoadgenCore',
    label: 'other processes on the load generator core',
    unit: '%',
    better: 'none',
    digits: 1,
  },
]

export type Metrics = Record<string, number | null>

export interface ScenarioOutcome {
  metrics: Metrics
  /** One-line remarks shown under the table (warnings, caveats). */
  notes: string[]
  /** Extra markdown for this target (e.g. a per-step table), shown after the notes. */
  details?: string
}

export interface TargetRun extends ScenarioOutcome {
  target: TargetName
  label: string
  /** Why the target did not run or did not finish, or null. */
  skipped: string | null
}

export interface Scenario {
  name: string
  title: string
  /** One line: what is measured and how. */
  description: string
  /** Parameters for a full or quick (development) run, shown in the report. */
  params(quick: boolean): string
  metrics: Metric[]
  /** How many rounds a full run makes by default (1 when unset); see --rounds. */
  rounds?: number
  /** Reads documents back after a restart: a target that stores nothing is skipped. */
  readsStoredDocuments?: boolean
  /** Measures plait alone (e.g. its cluster mode): only plait targets run it, the others are left out. */
  plaitOnly?: boolean
  /** Why it cannot run on this machine (e.g. a service it needs is not installed), or null when it can. */
  unavailable?(): string | null
  /** Why this scenario cannot run against `target` (it lacks what is measured), or null. */
  skips?(target: Target): string | null
  run(ctx: RunContext): Promise<ScenarioOutcome>
}

/** CPU % of the load generator above which its numbers are suspect. */
export const loadgenBusyPercent = 85

export class RunContext {
  private dataDirs = 0
  readonly port: Promise<number>
  /** Servers started in this context, so the runner can stop them if the scenario throws. */
  readonly servers: ServerProcess[] = []

  constructor(
    readonly target: Target,
    readonly quick: boolean,
    /** Extra node flags for the server (plait only). */
    readonly nodeFlags: readonly string[],
    readonly workDir: string,
    readonly pinned: boolean,
  ) {
    this.port = freePort()
  }

  log(message: string): void {
    process.stderr.write(`  [${this.target.name}] ${message}\n`)
  }

  newDataDir(): string {
    const dir = join(this.workDir, `data-${++this.dataDirs}`)
    mkdirSync(dir, { recursive: true })
    return dir
  }

  /** Starts the target on this context's port over `dataDir`, pinned to core 0. */
  async startServer(dataDir: string): Promise<ServerProcess> {
    const server = await ServerProcess.start(this.target, {
      port: await this.port,
      dataDir,
      nodeFlags: this.nodeFlags,
      logFile: join(this.workDir, 'server.log'),
      cpus: this.pinned ? '0' : null,
    })
    this.servers.push(server)
    return server
  }

  async url(room: string): Promise<string> {
    return `ws://127.0.0.1:${await this.port}/${encodeURIComponent(room)}`
  }

  async client(
    id: number,
    room: string,
    options: {
      onMarker?: MarkerListener
      apply?: boolean
      onApplied?: () => void
      onAwareness?: AwarenessListener
    } = {},
  ): Promise<BenchClient> {
    return new BenchClient({
      id,
      url: await this.url(room),
      framing: this.target.framing(room),
      authToken: await this.target.authToken(),
      ...options,
    })
  }

  /** Stops every server this context started that is still running. */
  async stopServers(): Promise<void> {
    for (const server of this.servers) await server.stop()
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Waits until `done()` or `timeoutMs`, polling every `everyMs`; returns whether it became done. */
export async function waitFor(done: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (!done()) {
    if (performance.now() > deadline) return false
    await sleep(everyMs)
  }
  return true
}

/** A note naming the sockets the server closed during a run, by close code, or null when none were. */
export function closedNote(clients: readonly BenchClient[]): string | null {
  const byCode = new Map<number, number>()
  for (const c of clients)
    if (c.closeCode !== null) byCode.set(c.closeCode, (byCode.get(c.closeCode) ?? 0) + 1)
  if (byCode.size === 0) return null
  const codes = [...byCode].map(([code, n]) => `${code} × ${n}`).join(', ')
  return `the server closed sockets during the run (close code × sockets: ${codes})`
}
