// Real servers for tests: in-process (createServer on a free port, LevelDB in a temp dir), or the command
// run to completion (runPlait). A long-running child process is PlaitProcess (plait-process.ts).
import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { createLogger } from '../../server/logger.js'
import { createServer, type PlaitServer, type ServerOptions } from '../../server/server.js'

export const repoRoot = join(import.meta.dirname, '..', '..')

export function tempDir(prefix = 'plait-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** Log lines a test can read (JSON objects), instead of printing them. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = []
  readonly raw: string[] = []
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() === '') continue
      this.raw.push(line)
      this.lines.push(JSON.parse(line))
    }
    done()
  }
}

export interface TestServer {
  server: PlaitServer
  port: number
  url: string
  http: string
  dataDir: string
  logs: LogCapture
  stop(): Promise<void>
}

/** Starts plait in this process on a free loopback port. */
export async function startServer(options: ServerOptions = {}, dataDir = tempDir()): Promise<TestServer> {
  const logs = new LogCapture()
  const server = createServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logger: createLogger('debug', logs),
    ...options,
  })
  const { port } = await server.listen()
  return {
    server,
    port,
    url: `ws://127.0.0.1:${port}`,
    http: `http://127.0.0.1:${port}`,
    dataDir,
    logs,
    stop: () => server.close(),
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

/** The newest modification time of any file under `dir`. */
export function newestSourceTime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSourceTime(path) : statSync(path).mtimeMs)
  }
  return newest
}

/**
 * The one bundled file `npm start` and the `plait` command run (dist/plait.mjs), rebuilt first when it is
 * missing or older than the server's sources: tests that start the process exercise the current code as
 * it ships.
 */
export function shippedServer(): string {
  const bundle = join(repoRoot, 'dist', 'plait.mjs')
  const sources = Math.max(
    newestSourceTime(join(repoRoot, 'server')),
    newestSourceTime(join(repoRoot, 'persistence')),
    statSync(join(repoRoot, 'package.json')).mtimeMs,
  )
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) {
    execFileSync('npm', ['run', '-s', 'build:server'], { cwd: repoRoot, stdio: 'inherit', timeout: 120_000 })
  }
  return bundle
}

/** Runs the plait command to completion with these arguments: for --help, start-up refusals and
 * `plait token`. */
export function runPlait(args: string[], env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [shippedServer(), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 20_000,
    env,
  })
}
