// One server under test: spawned pinned to core 0, stopped by its pid, never left behind.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { repoRoot, type Target } from './targets.js'

/** Every server this process started and has not yet seen exit: killed on the way out, whatever happens. */
const live = new Set<ChildProcess>()

function killAllNow(): void {
  for (const child of live) {
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  live.clear()
}
process.on('exit', killAllNow)

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}

function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 1000 }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', () => resolve(0))
    req.on('timeout', () => {
      req.destroy()
      resolve(0)
    })
    req.end()
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface StartOptions {
  port: number
  dataDir: string
  nodeFlags: readonly string[]
  /** File that receives the server's stdout and stderr. */
  logFile: string
  /** CPU list for `taskset -c`, or null to run unpinned. */
  cpus: string | null
}

export class ServerProcess {
  private exited: Promise<void>
  private exitCode: number | null = null
  private exitSignal: NodeJS.Signals | null = null

  private constructor(
    readonly target: Target,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly log: WriteStream,
  ) {
    live.add(child)
    child.once('close', () => this.log.end())
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code
        this.exitSignal = signal
        live.delete(child)
        resolve()
      })
    })
  }

  get pid(): number {
    return this.child.pid ?? -1
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null
  }

  /** Throws when the server has exited on its own (a crash during a run invalidates the run). */
  assertRunning(): void {
    if (!this.running) {
      throw new Error(
        `${this.target.name} exited during the run (code ${this.exitCode}, signal ${this.exitSignal})`,
      )
    }
  }

  /** Spawns the target and waits (at most `readyTimeoutMs`) until its ready path answers 200. */
  static async start(target: Target, options: StartOptions, readyTimeoutMs = 30_000): Promise<ServerProcess> {
    const launch = target.launch(options)
    const log = createWriteStream(options.logFile, { flags: 'a' })
    const [command, args] =
      options.cpus === null
        ? [process.execPath, launch.nodeArgs]
        : ['taskset', ['-c', options.cpus, process.execPath, ...launch.nodeArgs]]
    // taskset execs node in place, so the child's pid is the server's pid.
    const child = spawn(command, args, {
      cwd: repoRoot,
      env: { ...process.env, ...launch.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.pipe(log, { end: false })
    child.stderr?.pipe(log, { end: false })
    const server = new ServerProcess(target, options.port, child, log)
    const deadline = Date.now() + readyTimeoutMs
    while (Date.now() < deadline) {
      if (!server.running) {
        throw new Error(
          `${target.name} exited before it was ready (code ${server.exitCode}, signal ${server.exitSignal}); see ${options.logFile}`,
        )
      }
      if ((await httpStatus(options.port, target.readyPath)) === 200) return server
      // Polled often: "start -> ready" and the crash scenario's restart time are measured through this loop.
      await sleep(5)
    }
    await server.kill9()
    throw new Error(`${target.name} was not ready within ${readyTimeoutMs} ms; see ${options.logFile}`)
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.running) {
      this.signal('SIGTERM')
      const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)])
      if (timedOut) await this.kill9()
    }
    await this.exited
  }

  /** `kill -9`: the crash the crash scenario is about. */
  async kill9(): Promise<void> {
    if (this.running) this.signal('SIGKILL')
    await this.exited
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      process.kill(this.pid, sig)
    } catch {
      // already gone
    }
  }
}
