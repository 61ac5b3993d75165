// A server a test runs as its own child process (redis-server, postgres): started in a process group of
// its own, so a crash can take the server and everything it forked at once; stopped by its pid, with
// SIGKILL when it hangs; killed when the test process exits, so a failed test leaves nothing running.
import { spawn } from 'node:child_process'

const stopTimeoutMs = 10_000
// Forked children (PostgreSQL's backends, a Redis rewrite) outlive the leader by a moment after SIGKILL.
const groupGoneTimeoutMs = 5_000

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
  for (const service of running) service.killGroupNow()
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
      // its own process group: -pid reaches the server and its children, and not this process
      detached: true,
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
    const timer = setTimeout(() => this.killGroupNow(), stopTimeoutMs)
    try {
      return await this.waitGone()
    } finally {
      clearTimeout(timer)
    }
  }

  /** `kill -9` of the server and everything it forked, as a crash of the machine would. */
  async kill(): Promise<Exit> {
    this.killGroupNow()
    return this.waitGone()
  }

  killGroupNow(): void {
    signalPid(-this.pid, 'SIGKILL')
  }

  private async waitGone(): Promise<Exit> {
    const exit = await this.exited
    const deadline = Date.now() + groupGoneTimeoutMs
    while (groupAlive(this.pid) && Date.now() < deadline) await pause(20)
    return exit
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

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}
