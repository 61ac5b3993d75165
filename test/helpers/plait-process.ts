// The real plait server as a child process, the way `npm start` runs it: started on a loopback port,
// stopped by its pid (SIGTERM, or SIGKILL for a crash), restartable on the same port and data directory.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, repoRoot, shippedServer } from './server.js'

const startTimeoutMs = 30_000
const stopTimeoutMs = 10_000

export { freePort }

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export class PlaitProcess {
  readonly dataDir: string
  private readonly ownsDataDir: boolean
  private child: ChildProcess | null = null
  private exited: Promise<Exit> | null = null
  private log = ''

  constructor(
    readonly port: number,
    /** Further command-line flags, e.g. ['--auth-secret', secret]. */
    private readonly extraArgs: string[] = [],
    /** An existing data directory (kept by dispose); by default a new temporary one (removed by dispose). */
    dataDir?: string,
  ) {
    this.ownsDataDir = dataDir === undefined
    this.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), 'plait-test-'))
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  /** The last few KB of the process's stdout and stderr, to explain a failure. */
  get output(): string {
    return this.log
  }

  /** Starts the process and waits until /readyz answers. */
  async start(): Promise<void> {
    if (this.child !== null) throw new Error('plait already running')
    const child = spawn(
      process.execPath,
      [
        shippedServer(),
        '--port',
        String(this.port),
        '--host',
        '127.0.0.1',
        '--data',
        this.dataDir,
        ...this.extraArgs,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    this.child = child
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
    child.stdout?.on('data', (chunk: Buffer) => this.keepOutput(chunk))
    child.stderr?.on('data', (chunk: Buffer) => this.keepOutput(chunk))
    const deadline = Date.now() + startTimeoutMs
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`plait exited with ${child.exitCode}:\n${this.log}`)
      try {
        const response = await fetch(`${this.url}/readyz`)
        if (response.ok) return
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await this.crash()
    throw new Error(`plait did not start within ${startTimeoutMs} ms:\n${this.log}`)
  }

  /** SIGTERM (SIGKILL if it hangs); resolves with how it exited, or null when it was not running. */
  stop(): Promise<Exit | null> {
    return this.end('SIGTERM')
  }

  /** `kill -9`: no chance to shut down; resolves with how it exited, or null when it was not running. */
  crash(): Promise<Exit | null> {
    return this.end('SIGKILL')
  }

  async dispose(): Promise<void> {
    await this.stop()
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true })
  }

  private async end(signal: NodeJS.Signals): Promise<Exit | null> {
    const child = this.child
    const exited = this.exited
    this.child = null
    this.exited = null
    if (child === null || exited === null) return null
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
      process.kill(child.pid, signal)
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, 'SIGKILL')
      }
    }, stopTimeoutMs)
    const exit = await exited
    clearTimeout(timer)
    return exit
  }

  private keepOutput(chunk: Buffer): void {
    // the last few KB are enough to explain a failure
    this.log = (this.log + chunk.toString()).slice(-8000)
  }
}
