// The real plait server as a child process for browser tests: started on a free loopback port, stopped by
// its pid, restartable on the same port and data directory.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './server.js'

const repoRoot = join(import.meta.dirname, '..', '..')
const startTimeoutMs = 30_000
const stopTimeoutMs = 10_000

export { freePort }

export class PlaitProcess {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'plait-demo-test-'))
  private child: ChildProcess | null = null
  private output = ''

  constructor(
    readonly port: number,
    /** Further command-line flags, e.g. ['--auth-secret', secret]. */
    private readonly extraArgs: string[] = [],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    if (this.child !== null) throw new Error('plait already running')
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'server/main.ts',
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
    child.stdout?.on('data', (chunk: Buffer) => this.keepOutput(chunk))
    child.stderr?.on('data', (chunk: Buffer) => this.keepOutput(chunk))
    const deadline = Date.now() + startTimeoutMs
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`plait exited with ${child.exitCode}:\n${this.output}`)
      try {
        const response = await fetch(`${this.url}/api/info`)
        if (response.ok) return
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`plait did not start within ${startTimeoutMs} ms:\n${this.output}`)
  }

  /** Stops the process we started (SIGTERM, then SIGKILL if it hangs) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child
    if (child === null) return
    this.child = null
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL')
    }, stopTimeoutMs)
    await exited
    clearTimeout(timer)
  }

  /** Kills the process we started without letting it shut down (a crash), and waits for it to exit. */
  async crash(): Promise<void> {
    const child = this.child
    if (child === null) return
    this.child = null
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
    await exited
  }

  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.dataDir, { recursive: true, force: true })
  }

  private keepOutput(chunk: Buffer): void {
    // the last few KB are enough to explain a failed start
    this.output = (this.output + chunk.toString()).slice(-8000)
  }
}
