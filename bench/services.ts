// Redis and PostgreSQL of the bench's own, for the cluster scenario: private instances on free loopback
// ports with their data in temp directories, pinned to the server core like the nodes, stopped by their
// pids (SIGKILLed with everything they forked when the bench exits early). The minimal logic of
// test/helpers/redis-server.ts and postgres-server.ts, which import plait's server (a second Yjs here).
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { cpuSeconds } from './proc.js'
import { freePort } from './server-process.js'

const run = promisify(execFile)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const readyTimeoutMs = 30_000
const stopTimeoutMs = 10_000

/** The AOF policy the bench's Redis runs with: what a deployment that can lose ≤ 1 s of edits would pick. */
export const redisAppendfsync = 'everysec'

/** Every service started and not yet seen exit, with its descendants: SIGKILLed on the way out. */
const live = new Set<Service>()
process.on('exit', () => {
  for (const service of live) service.killNow()
})

/** Children of a process, from /proc/<pid>/task/<tid>/children, recursively. */
export function descendants(pid: number): number[] {
  const found: number[] = []
  const visit = (parent: number) => {
    let tasks: string[] = []
    try {
      tasks = readdirSync(`/proc/${parent}/task`)
    } catch {
      return
    }
    for (const task of tasks) {
      let children = ''
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8')
      } catch {
        continue
      }
      for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
        found.push(child)
        visit(child)
      }
    }
  }
  visit(pid)
  return found
}

class Service {
  readonly pid: number
  private exitedAt: Promise<void>
  private running = true
  private output = ''

  constructor(
    readonly name: string,
    child: ChildProcess,
    private readonly stopSignal: NodeJS.Signals,
  ) {
    if (child.pid === undefined) throw new Error(`could not start ${name}`)
    this.pid = child.pid
    live.add(this)
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    this.exitedAt = new Promise((resolve) => {
      child.once('exit', () => {
        this.running = false
        live.delete(this)
        resolve()
      })
    })
  }

  get isRunning(): boolean {
    return this.running
  }

  get log(): string {
    return this.output
  }

  /** CPU seconds of the process and everything it forked that still runs (PostgreSQL's backends). */
  cpuSeconds(): number {
    let total = 0
    for (const pid of [this.pid, ...descendants(this.pid)]) total += cpuSeconds(pid) ?? 0
    return total
  }

  /** Its stop signal, then SIGKILL of it and its descendants after 10 s. */
  async stop(): Promise<void> {
    if (!this.running) return
    try {
      process.kill(this.pid, this.stopSignal)
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.killNow(), stopTimeoutMs)
    await this.exitedAt
    clearTimeout(timer)
  }

  killNow(): void {
    if (!this.running) return
    for (const pid of [...descendants(this.pid), this.pid]) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
}

function spawnPinned(
  command: string,
  args: string[],
  pinned: boolean,
  options: { cwd: string; uid?: number; gid?: number },
): ChildProcess {
  // taskset execs the command in place: the child's pid is the service's, and what it forks inherits core 0.
  const [file, argv] = pinned ? ['taskset', ['-c', '0', command, ...args]] : [command, args]
  return spawn(file, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
}

export interface RedisService {
  readonly isRunning: boolean
  readonly url: string
  readonly port: number
  readonly pid: number
  readonly version: string
  cpuSeconds(): number
  /** One command through redis-cli; its reply as text. */
  command(...args: string[]): Promise<string>
  stop(): Promise<void>
}

export interface PostgresService {
  readonly isRunning: boolean
  readonly port: number
  readonly pid: number
  readonly version: string
  /** CPU seconds of the postmaster and its backends. */
  cpuSeconds(): number
  /** A fresh database; its postgres:// URL. */
  createDatabase(): Promise<string>
  stop(): Promise<void>
}

function onPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter))
    if (dir !== '' && existsSync(join(dir, binary))) return join(dir, binary)
  return null
}

/** Debian keeps PostgreSQL's server binaries in /usr/lib/postgresql/<major>/bin: the newest, else PATH. */
function postgresBin(): string | null {
  const debian = '/usr/lib/postgresql'
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : []
  for (const version of versions) {
    const dir = join(debian, version, 'bin')
    if (existsSync(join(dir, 'postgres'))) return dir
  }
  const postgres = onPath('postgres')
  return postgres === null ? null : join(postgres, '..')
}

/** PostgreSQL refuses to run as root: the Debian package's postgres user. */
function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'))
  const [, , uid, gid] = line?.split(':') ?? []
  return uid === undefined || gid === undefined ? null : { uid: Number(uid), gid: Number(gid) }
}

/** Why the cluster scenario cannot run here, or null when it can. */
export function servicesUnavailable(): string | null {
  if (onPath('redis-server') === null || onPath('redis-cli') === null)
    return 'redis-server or redis-cli is not on PATH (Debian: apt-get install redis-server)'
  const bin = postgresBin()
  if (bin === null || !['initdb', 'pg_isready', 'createdb'].every((b) => existsSync(join(bin, b))))
    return 'PostgreSQL server binaries (postgres, initdb, pg_isready, createdb) not found (Debian: apt-get install postgresql)'
  if (process.getuid?.() === 0 && postgresUser() === null)
    return 'running as root and there is no postgres user to run PostgreSQL as'
  return null
}

export async function startRedis(pinned: boolean): Promise<RedisService> {
  const dir = mkdtempSync(join(tmpdir(), 'plait-bench-redis-'))
  const port = await freePort()
  const version = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim()
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--daemonize',
    'no',
    '--dir',
    dir,
    '--logfile',
    join(dir, 'redis.log'),
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    redisAppendfsync,
    '--maxmemory-policy',
    'noeviction',
  ]
  const service = new Service(
    'redis-server',
    spawnPinned('redis-server', args, pinned, { cwd: dir }),
    'SIGTERM',
  )
  const command = async (...cmd: string[]) =>
    (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...cmd], { timeout: 5_000 })).stdout
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    if (!service.isRunning) throw new Error(`redis-server exited before it was ready: ${service.log}`)
    // this very process, not whoever else may hold the port
    const info = await command('INFO', 'server').catch(() => '')
    if (info.includes(`process_id:${service.pid}\r\n`) || info.includes(`process_id:${service.pid}\n`)) break
    if (Date.now() > deadline) {
      await service.stop()
      throw new Error(`redis-server was not ready within ${readyTimeoutMs} ms`)
    }
    await sleep(20)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    get isRunning() {
      return service.isRunning
    },
    port,
    pid: service.pid,
    version,
    cpuSeconds: () => service.cpuSeconds(),
    command,
    stop: async () => {
      await service.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function startPostgres(pinned: boolean): Promise<PostgresService> {
  const bin = postgresBin()
  if (bin === null) throw new Error('no PostgreSQL binaries')
  const user = postgresUser()
  const runAs = user === null ? {} : { uid: user.uid, gid: user.gid }
  // Under tmpdir itself, not the bench's scratch dir (mode 0700, owned by root): the postgres user owns it.
  const root = mkdtempSync(join(tmpdir(), 'plait-bench-pg-'))
  if (user !== null) chownSync(root, user.uid, user.gid)
  const dataDir = join(root, 'data')
  const port = await freePort()
  const cleanup = () => rmSync(root, { recursive: true, force: true })
  try {
    await run(
      join(bin, 'initdb'),
      ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { cwd: root, timeout: 60_000, ...runAs },
    )
  } catch (error) {
    cleanup()
    throw error
  }
  const version = execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim()
  const args = ['-D', dataDir, '-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1']
  const service = new Service(
    'postgres',
    spawnPinned(join(bin, 'postgres'), args, pinned, { cwd: root, ...runAs }),
    // fast shutdown: sessions ended, WAL flushed
    'SIGINT',
  )
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    if (!service.isRunning) {
      cleanup()
      throw new Error(`postgres exited before it was ready: ${service.log}`)
    }
    const ready = await run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], {
      timeout: 5_000,
    }).then(
      () => true,
      () => false,
    )
    if (ready) break
    if (Date.now() > deadline) {
      await service.stop()
      cleanup()
      throw new Error(`postgres was not ready within ${readyTimeoutMs} ms`)
    }
    await sleep(50)
  }
  let databases = 0
  return {
    port,
    get isRunning() {
      return service.isRunning
    },
    pid: service.pid,
    version,
    cpuSeconds: () => service.cpuSeconds(),
    createDatabase: async () => {
      const name = `plait_bench_${++databases}`
      await run(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name], {
        timeout: 10_000,
      })
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    stop: async () => {
      await service.stop()
      cleanup()
    },
  }
}
