// CPU time and RSS of a process, read from /proc/<pid>/stat and /proc/<pid>/status (Linux only).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** utime + stime of a process in seconds, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / clockTicks
  } catch {
    return null
  }
}

/** Resident set size in KiB (VmRSS), or null when the process is gone. */
export function rssKiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status)
    return match ? Number(match[1]) : null
  } catch {
    return null
  }
}

/** CPU % (of one core) and RSS of one process over a measurement window, sampled every `everyMs`. */
export class ProcessSampler {
  private readonly startCpu: number
  private readonly startAt: number
  private readonly timer: NodeJS.Timeout
  private maxRss = 0
  private lastRss = 0

  constructor(
    readonly pid: number,
    everyMs = 500,
  ) {
    this.startCpu = cpuSeconds(pid) ?? 0
    this.startAt = performance.now()
    this.sample()
    this.timer = setInterval(() => this.sample(), everyMs)
    this.timer.unref()
  }

  private sample(): void {
    const rss = rssKiB(this.pid)
    if (rss === null) return
    this.lastRss = rss
    if (rss > this.maxRss) this.maxRss = rss
  }

  /** Stops sampling and returns the window's average CPU % and the max and last RSS in KiB. */
  stop(): { cpuPercent: number; maxRssKiB: number; lastRssKiB: number } {
    clearInterval(this.timer)
    this.sample()
    const seconds = (performance.now() - this.startAt) / 1000
    const cpu = (cpuSeconds(this.pid) ?? this.startCpu) - this.startCpu
    return {
      cpuPercent: seconds > 0 ? (cpu / seconds) * 100 : 0,
      maxRssKiB: this.maxRss,
      lastRssKiB: this.lastRss,
    }
  }
}

/** Busy (non-idle, non-iowait) plus steal seconds of one core, from /proc/stat. */
function coreBusySeconds(core: number): number | null {
  const stat = readFileSync('/proc/stat', 'utf8')
  const line = stat.split('\n').find((l) => l.startsWith(`cpu${core} `))
  if (line === undefined) return null
  // user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
  return (user + nice + system + irq + softirq + (steal || 0)) / clockTicks
}

/**
 * How busy a core was over a window, minus the process pinned to it: time taken by other processes
 * (the other engineers' test runs on this machine) or stolen by the hypervisor. Non-zero means the
 * window's numbers were disturbed.
 */
export class CoreInterference {
  private readonly startBusy: number | null
  private readonly startAt = performance.now()
  /** CPU seconds at the start of each process not counted as others (null: it was already gone). */
  private readonly startProc: Map<number, number | null>

  /**
   * `pid`: the process pinned there, or every process of the system under test (cluster nodes, Redis,
   * PostgreSQL's backends); the first must still run at the end. Another that exits in the window (a
   * PostgreSQL backend) counts as others for what it used in it.
   */
  constructor(
    private readonly core: number,
    pid: number | readonly number[],
  ) {
    const pids = typeof pid === 'number' ? [pid] : pid
    this.startBusy = coreBusySeconds(core)
    this.startProc = new Map(pids.map((p) => [p, cpuSeconds(p)]))
  }

  /** CPU seconds the processes not counted as others used since the start, or null when the first is gone. */
  private procSeconds(): number | null {
    let total = 0
    let first = true
    for (const [pid, start] of this.startProc) {
      const end = cpuSeconds(pid)
      if (first && (start === null || end === null)) return null
      first = false
      if (start !== null && end !== null) total += end - start
    }
    return total
  }

  /** Percent of the core used by anything other than the given processes during the window. */
  stop(): number {
    const busy = coreBusySeconds(this.core)
    const proc = this.procSeconds()
    const seconds = (performance.now() - this.startAt) / 1000
    if (busy === null || proc === null || this.startBusy === null || seconds <= 0) return Number.NaN
    return Math.max(0, ((busy - this.startBusy - proc) / seconds) * 100)
  }
}
