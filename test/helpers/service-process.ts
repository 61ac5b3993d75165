// A server a test runs as its own child process (redis-server, postgres): stopped by its pid, with SIGKILL
// when it hangs; crashed together with everything it forked; killed when the test process exits, so a
// failed test leaves nothing running.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'

const stopTimeoutMs = 10_000
// how long SIGKILLed processes may take to be gone (or only zombies)
const goneTimeoutMs = 5_000

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface SpawnOptions {
  cwd?: string
  /** Run as this user and group (PostgreSQL refuses to run as root). */
  uid?: number
  gid?: number
}

const running = new Set<ServiceProcess>()
process.once('exit', () => {
  for (const service of running) service.killNow()
})

export class ServiceProcess {
  readonly pid: number
  readonly exited: Promise<Exit>
  private exit: Exit | null = null
  private log = ''

  constructor(
    readonly command: string,
    args: string[],
    options: SpawnOptions = {},
  ) {
    const child = spawn(command, args, {
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.exited = new Promise((resolve, reject) => {
      child.once('error', (error) => {
        running.delete(this)
        reject(error)
      })
      child.once('exit', (code, signal) => {
        running.delete(this)
        this.exit = { code, signal }
        resolve(this.exit)
      })
    })
    // an error before 'exit' (ENOENT) rejects `exited`; callers see it through start, not as unhandled
    this.exited.catch(() => {})
    if (child.pid === undefined) throw new Error(`could not start ${command}`)
    this.pid = child.pid
    running.add(this)
    child.stdout?.on('data', (chunk: Buffer) => this.keepOutput(chunk))
    child.stderr?.on('data', (chunk: Buffer) => this.keepOutput(chunk))
  }

  get isRunning(): boolean {
    return this.exit === null
  }

  /** How it exited, or null while it runs. */
  get exitStatus(): Exit | null {
    return this.exit
  }

  /** The last few KB of its stdout and stderr, to explain a failure. */
  get output(): string {
    return this.log
  }

  /** Sends `signal` to the server's pid and waits for it and its children to exit; SIGKILL after 10 s. */
  async stop(signal: NodeJS.Signals): Promise<Exit> {
    if (this.isRunning) signalPid(this.pid, signal)
    let family: number[] = []
    const timer = setTimeout(() => {
      family = this.killNow()
    }, stopTimeoutMs)
    try {
      const exit = await this.exited
      await waitGone(family)
      return exit
    } finally {
      clearTimeout(timer)
    }
  }

  /** `kill -9` of the server and everything it forked, as a crash of the machine would. */
  async kill(): Promise<Exit> {
    const family = this.killNow()
    const exit = await this.exited
    await waitGone(family)
    return exit
  }

  /**
   * SIGKILLs the server and its descendants, and returns the descendants. Not by process group:
   * PostgreSQL's backends each call setsid, and a postmaster killed alone leaves them running with its
   * shared memory, which the next start refuses. Stopped first, it cannot fork while they are collected.
   */
  killNow(): number[] {
    if (!this.isRunning) return []
    signalPid(this.pid, 'SIGSTOP')
    const family = descendants(this.pid)
    for (const pid of family) signalPid(pid, 'SIGKILL')
    signalPid(this.pid, 'SIGKILL')
    return family
  }

  private keepOutput(chunk: Buffer): void {
    this.log = (this.log + chunk.toString()).slice(-8000)
  }
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch (error) {
    // already gone
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

/** Fields after the command name of /proc/<pid>/stat (the name may hold spaces and parentheses). */
function statFields(pid: string | number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return null
  }
}

/** Every process below `root`, from /proc (Linux); none where there is no /proc. */
function descendants(root: number): number[] {
  if (!existsSync('/proc')) return []
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const fields = statFields(entry)
    if (fields === null) continue
    const parent = Number(fields[1])
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
  }
  const found: number[] = []
  const queue = [root]
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      found.push(child)
      queue.push(child)
    }
  }
  return found
}

/** Polls until none of `pids` runs; a zombie waiting for init to reap it counts as gone. */
async function waitGone(pids: number[]): Promise<void> {
  const deadline = Date.now() + goneTimeoutMs
  const running = (pid: number): boolean => {
    const fields = statFields(pid)
    return fields !== null && fields[0] !== 'Z'
  }
  while (pids.some(running) && Date.now() < deadline) await pause(20)
}
