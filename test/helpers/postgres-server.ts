// A PostgreSQL instance of the test's own: initdb into a temp dir, postgres as a child process on a free
// loopback port, so a test can kill and restart it mid-stream without touching the machine's own server.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { freePort, removeDir, tempDir } from './server.js'
import { pause, ServiceProcess } from './service-process.js'

const initdbTimeoutMs = 60_000
// crash recovery after kill() replays the WAL before it accepts connections
const readyTimeoutMs = 30_000
const startAttempts = 5

export interface PostgresServer {
  readonly port: number
  /** postgres://postgres@127.0.0.1:port/postgres */
  readonly url: string
  /** The data directory (initdb's), inside the test's temp dir. */
  readonly dataDir: string
  /** The postmaster's pid (of the last one after stop or kill). */
  readonly pid: number
  /** The tail of its stderr, to explain a failure. */
  readonly output: string
  /** Creates a fresh, uniquely named database and resolves with its URL. */
  createDatabase(): Promise<string>
  /** SIGINT (fast shutdown: sessions are ended, the WAL is flushed), waits for the exit; SIGKILL after 10 s. */
  stop(): Promise<void>
  /** SIGKILL of the postmaster and its backends: a crash; the next start recovers from the WAL. */
  kill(): Promise<void>
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>
  restart(): Promise<void>
  /** Stops it and removes its directory. */
  dispose(): Promise<void>
}

interface Binaries {
  initdb: string
  postgres: string
}

/** Why PostgreSQL tests cannot run here, in one line, or null when they can. */
export function postgresSkipReason(): string | null {
  if (findBinaries() === null) {
    return 'PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin or on PATH (Debian: apt-get install postgresql)'
  }
  if (isRoot() && postgresUser() === null)
    return 'running as root and there is no postgres user to run PostgreSQL as'
  return null
}

export async function startPostgres(): Promise<PostgresServer> {
  const reason = postgresSkipReason()
  const binaries = findBinaries()
  if (reason !== null || binaries === null) throw new Error(reason ?? 'no PostgreSQL binaries')
  const server = new TestPostgres(binaries, await freePort())
  try {
    await server.init()
    await server.start(true)
  } catch (error) {
    await server.dispose()
    throw error
  }
  return server
}

class TestPostgres implements PostgresServer {
  // owned by the postgres user when this runs as root; holds the data directory and the Unix socket
  private readonly root = tempDir('plait-pg-')
  readonly dataDir = join(this.root, 'data')
  private readonly user = isRoot() ? postgresUser() : null
  private process: ServiceProcess | null = null
  private lastPid = 0
  private databases = 0

  constructor(
    private readonly binaries: Binaries,
    public port: number,
  ) {
    if (this.user !== null) chownSync(this.root, this.user.uid, this.user.gid)
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`
  }

  get pid(): number {
    return this.lastPid
  }

  get output(): string {
    return this.process?.output ?? ''
  }

  async init(): Promise<void> {
    await promisify(execFile)(
      this.binaries.initdb,
      // C locale: a fresh machine may have no other locale generated; --no-sync: a test cluster
      ['-D', this.dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { cwd: this.root, timeout: initdbTimeoutMs, ...this.runAs() },
    )
  }

  async start(mayChangePort = false): Promise<void> {
    if (this.process?.isRunning) throw new Error('postgres already running')
    for (let attempt = 1; ; attempt++) {
      const service = new ServiceProcess(
        this.binaries.postgres,
        [
          '-D',
          this.dataDir,
          '-p',
          String(this.port),
          '-k',
          this.root,
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'fsync=on',
        ],
        { cwd: this.root, ...this.runAs() },
      )
      this.process = service
      this.lastPid = service.pid
      const outcome = await this.waitReady(service)
      if (outcome === 'ready') return
      const output = service.output
      // the port just released or taken since freePort; a killed server's shared memory not yet gone
      const transient =
        /Address already in use|could not create any TCP\/IP sockets|pre-existing shared memory/
      if (outcome === 'exited' && transient.test(output) && attempt < startAttempts) {
        if (mayChangePort && /Address already in use/.test(output)) this.port = await freePort()
        await pause(100 * attempt)
        continue
      }
      await service.kill()
      throw new Error(`postgres on port ${this.port} did not start (${outcome}):\n${output}`)
    }
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGINT')
  }

  async kill(): Promise<void> {
    await this.process?.kill()
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  async dispose(): Promise<void> {
    await this.stop()
    removeDir(this.root)
  }

  async createDatabase(): Promise<string> {
    this.databases += 1
    const name = `plait_test_${this.databases}_${randomBytes(4).toString('hex')}`
    await withClient(this.url, (client) => client.query(`CREATE DATABASE ${name}`))
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`
  }

  /**
   * Spawned with the postgres user's uid and gid rather than through runuser or su: those fork, stay as
   * the parent, and turn any signal into SIGTERM for postgres (a smart shutdown, not a fast one), and
   * their own SIGKILL never reaches postgres. This way the pid held is the postmaster's.
   */
  private runAs(): { uid?: number; gid?: number } {
    return this.user === null ? {} : { uid: this.user.uid, gid: this.user.gid }
  }

  /** Polls until this postmaster (its data directory and its pid in postmaster.pid) runs `SHOW`. */
  private async waitReady(service: ServiceProcess): Promise<'ready' | 'exited' | 'timed out'> {
    const deadline = Date.now() + readyTimeoutMs
    while (Date.now() < deadline) {
      if (!service.isRunning) return 'exited'
      const dataDirectory = await withClient(this.url, async (client) => {
        const result = await client.query<{ data_directory: string }>('SHOW data_directory')
        return result.rows[0]?.data_directory
      }).catch(() => null) // not listening yet, or "the database system is starting up"
      if (dataDirectory === this.dataDir && postmasterPid(this.dataDir) === service.pid) return 'ready'
      await pause(25)
    }
    return service.isRunning ? 'timed out' : 'exited'
  }
}

/** One short-lived connection, always closed; a dying server's error event does not crash the test. */
async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 2_000,
    query_timeout: 10_000,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    return await use(client)
  } finally {
    await client.end().catch(() => {})
  }
}

/** The first line of postmaster.pid is the running postmaster's pid. */
function postmasterPid(dataDir: string): number | null {
  try {
    return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  } catch {
    return null
  }
}

let binariesFound: Binaries | null | undefined

/** Debian keeps the server binaries off PATH, in /usr/lib/postgresql/<major>/bin: the newest of those, else PATH. */
function findBinaries(): Binaries | null {
  if (binariesFound !== undefined) return binariesFound
  const debian = '/usr/lib/postgresql'
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((name) => /^\d+(\.\d+)?$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : []
  const dirs = [
    ...versions.map((version) => join(debian, version, 'bin')),
    ...(process.env.PATH ?? '').split(delimiter),
  ]
  const dir = dirs.find(
    (candidate) => existsSync(join(candidate, 'initdb')) && existsSync(join(candidate, 'postgres')),
  )
  binariesFound = dir === undefined ? null : { initdb: join(dir, 'initdb'), postgres: join(dir, 'postgres') }
  return binariesFound
}

function isRoot(): boolean {
  return process.getuid?.() === 0
}

/** From /etc/passwd: the user the Debian package creates. */
function postgresUser(): { uid: number; gid: number } | null {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('postgres:'))
    const [, , uid, gid] = line?.split(':') ?? []
    return uid === undefined || gid === undefined ? null : { uid: Number(uid), gid: Number(gid) }
  } catch {
    return null
  }
}
